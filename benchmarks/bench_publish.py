"""The published decision log: `publish` at scale 1 and 10 (seconds, CPU, size), publishing
again with nothing changed and after one revision (seconds, files written), and what nginx
serves with the README's server block (wrk: requests per second for a decision page and for
the search index's files).

    python benchmarks/bench_publish.py [--scale 1 10] [--work /tmp/bench-publish]
                                       [--seconds 10] [--connections 64]

Each scale publishes a copy of /tmp/bench-sN.db (built once, as bench_pages.py does).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_pages import demo_database  # noqa: E402

from decisions import services, store  # noqa: E402
from decisions.model import SYSTEM_ACTOR  # noqa: E402
from decisions.publish import publish  # noqa: E402
from tests.e2e.nginx_site import NginxSite  # noqa: E402


def cpu_seconds() -> float:
    """CPU of this process and of the children it waited for (Pagefind)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_publish(conn, out: Path) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = publish(conn, out)
    return time.perf_counter() - wall, cpu_seconds() - cpu, result


def size(folder: Path) -> tuple[int, int]:
    found = [p for p in folder.rglob("*") if p.is_file()]
    return len(found), sum(p.stat().st_size for p in found)


def wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", "Accept-Encoding: gzip", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    transfer = re.search(r"Transfer/sec:\s+(\S+)", done.stdout).group(1)
    return rate, transfer


def bench_scale(scale: float, work: Path, seconds: int, connections: int) -> None:
    db = work / f"s{scale:g}.db"
    shutil.copy(demo_database(scale), db)
    out = work / f"site-s{scale:g}"
    shutil.rmtree(out, ignore_errors=True)
    conn = store.connect(db)
    wall, cpu, result = timed_publish(conn, out)
    files, total = size(out)
    _, index_bytes = size(out / "pagefind")
    print(f"scale {scale:g}: {result.decisions} decisions published in {wall:.1f} s "
          f"({cpu:.1f} s CPU with Pagefind); {files} files, {total / 1e6:.1f} MB, of which the "
          f"search index {index_bytes / 1e6:.1f} MB")  # fmt: skip
    wall, cpu, result = timed_publish(conn, out)
    print(f"scale {scale:g}: again, nothing changed: {wall:.1f} s ({cpu:.1f} s CPU), "
          f"{len(result.changes.written)} files written")  # fmt: skip
    key = store.scalar(conn, "SELECT key FROM decisions WHERE stage = 'ready' ORDER BY key")
    services.revise(conn, SYSTEM_ACTOR, key, decision_text="Revidert for målingen.",
                    reason="måling av publisering")  # fmt: skip
    wall, cpu, result = timed_publish(conn, out)
    index = [p for p in result.changes.written if p.startswith("pagefind/")]
    print(f"scale {scale:g}: again after revising {key}: {wall:.1f} s ({cpu:.1f} s CPU), "
          f"{len(result.changes.written)} files written ({len(index)} of the search index, "
          f"{len(result.changes.removed)} removed)")  # fmt: skip
    conn.close()
    prefix = work / f"nginx-s{scale:g}"
    prefix.mkdir(exist_ok=True)
    site = NginxSite(out, prefix, workers=2)
    try:
        url = site.wait_serving()
        pagefind = out / "pagefind"
        targets = {
            "decision page": f"/beslutning/{key}/",
            "index entry": "/pagefind/pagefind-entry.json",
            "index meta": "/pagefind/" + next(pagefind.glob("*.pf_meta")).name,
            "index chunk": "/pagefind/index/" + sorted((pagefind / "index").iterdir())[0].name,
        }
        for name, path in targets.items():
            rate, transfer = wrk(url + path, seconds, connections)
            print(f"scale {scale:g}: nginx, {name} ({path}): {rate:,.0f} requests/s, "
                  f"{transfer}/s")  # fmt: skip
    finally:
        site.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-publish"))
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk's open connections")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"load: {Path('/proc/loadavg').read_text().split()[:3]}")
    for scale in args.scale:
        bench_scale(scale, args.work, args.seconds, args.connections)


if __name__ == "__main__":
    main()
