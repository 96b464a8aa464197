"""Time the demo programme at scale 1 and 10 (SPEC.md section 6): seconds to build, with the
number of decisions and events. Wall-clock seconds depend on what else the machine runs; the
process's CPU seconds are what the build costs on a machine of its own. A script, not a test:

    python benchmarks/bench_demo.py [SCALE ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from decisions import demo, services, store
from decisions.store import bulk


def bench(scale: float, folder: Path) -> dict:
    conn = store.connect(folder / f"demo-{scale:g}.db")
    start, cpu = time.perf_counter(), time.process_time()
    demo.build_demo(conn, scale=scale)
    built, cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    findings = services.check(conn)
    checked = time.perf_counter() - start
    counts = bulk.row_counts(conn, ("decisions", "events"))
    conn.close()
    return {"scale": scale, "seconds": built, "cpu_seconds": cpu, "check_seconds": checked,
            "findings": len(findings), **counts}  # fmt: skip


def main(scales: list[float]) -> None:
    print(f"{'scale':>6} {'seconds':>8} {'cpu s':>7} {'decisions':>10} {'events':>9} "
          f"{'check s':>8} findings")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for scale in scales:
            r = bench(scale, Path(folder))
            print(f"{r['scale']:>6g} {r['seconds']:>8.1f} {r['cpu_seconds']:>7.1f} "
                  f"{r['decisions']:>10,} {r['events']:>9,} "
                  f"{r['check_seconds']:>8.1f} {r['findings']}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1, 10])
