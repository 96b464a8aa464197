"""Time readiness (all waves, at the programme clock and at a past date), the readiness page's
longer load with the burn-up, and each part of the Backlog page as it loads after a change to
the data (nothing cached), on demo programmes.

    python benchmarks/bench_readiness.py [--scale 1 10] [--db-dir /tmp] [--repeat 7]

Builds `demo-scale-N.db` in --db-dir when missing (`python -m decisions demo --scale N`).
Prints the median, min and max of --repeat runs (wall clock) and the median CPU time, per
step. Targets at scale 10: readiness of all waves under 1 s, as of a past date under 2 s,
the Backlog page under 2 s."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from decisions import backlog, readiness, services, store  # noqa: E402

PAST = dt.date(2022, 6, 1)
EARLY = dt.date(2020, 9, 1)  # the stage events of two years to replay


def demo_database(directory: Path, scale: float) -> Path:
    path = directory / f"demo-scale-{scale:g}.db"
    if not path.exists():
        print(f"building {path} ...", flush=True)
        subprocess.run([sys.executable, "-m", "decisions", "demo", "--db", str(path),
                        "--scale", f"{scale:g}"], cwd=REPO, check=True)  # fmt: skip
    return path


class Figures(NamedTuple):
    median: float
    low: float
    high: float
    cpu: float  # median


def timed(repeat: int, step: Callable[[], object]) -> Figures:
    """Wall-clock figures and the median CPU seconds of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Figures(statistics.median(walls), min(walls), max(walls), statistics.median(cpus))


def steps(conn) -> dict[str, Callable[[], object]]:
    """Each step loads what it needs from the database, as after a change to the data."""
    today = services.today(conn)
    programme, waves = readiness.assess(conn, today, weeks=readiness.BURN_UP_WEEKS)
    biggest = max(waves, key=lambda w: int(w.snapshot.in_scope.sum()))
    base, decisions = backlog.load_current(conn, today)
    return {
        "readiness, all waves, at the clock": lambda: readiness.assess(conn, today),
        f"readiness, all waves, as of {PAST}": lambda: readiness.assess(conn, PAST),
        f"readiness, all waves, as of {EARLY} (2 years back)": lambda: readiness.assess(
            conn, EARLY
        ),
        "readiness page load (26 weeks of history)": lambda: readiness.assess(
            conn, today, weeks=readiness.BURN_UP_WEEKS
        ),
        "burn-up of the biggest wave": lambda: readiness.burn_up(programme, biggest, 26),
        "backlog: decisions as of today (every tab)": lambda: backlog.load_current(conn, today),
        "backlog: past needed-by (from those)": lambda: backlog.overdue(decisions, today),
        "backlog: cumulative flow, 26 weeks": lambda: backlog.load_flow(conn, today, 26),
        "backlog: cumulative flow, 104 weeks": lambda: backlog.load_flow(conn, today, 104),
        "backlog: aging (from the decisions)": lambda: backlog.aging(decisions),
        "backlog: time per stage and level (all history)": lambda: backlog.load_stage_times(
            conn, base
        ),
        "backlog: bottlenecks by domain and forum": lambda: (
            backlog.bottlenecks(decisions, today, "domain"),
            backlog.bottlenecks(decisions, today, "forum"),
        ),
        "backlog: workload": lambda: backlog.load_workload(conn, decisions, today),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--db-dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for scale in args.scale:
        conn = store.connect(demo_database(args.db_dir, scale))
        count = store.scalar(conn, "SELECT count(*) FROM decisions")
        print(f"\nscale {scale:g}: {count:,} decisions, {args.repeat} runs a step (seconds)")
        print(f"  {'step':<50} {'median':>7} {'min':>7} {'max':>7} {'cpu':>7}")
        for name, step in steps(conn).items():
            f = timed(args.repeat, step)
            print(f"  {name:<50} {f.median:7.3f} {f.low:7.3f} {f.high:7.3f} {f.cpu:7.3f}",
                  flush=True)  # fmt: skip
        conn.close()


if __name__ == "__main__":
    main()
