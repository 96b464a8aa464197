"""Time readiness (all waves, at the programme clock and at a past date), the readiness page's
longer load with the burn-up, and the backlog computations, on demo programmes.

    python benchmarks/bench_readiness.py [--scale 1 10] [--db-dir /tmp] [--repeat 3]

Builds `demo-scale-N.db` in --db-dir when missing (`python -m decisions demo --scale N`).
Prints the best of --repeat runs, wall clock and CPU time, per step."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from decisions import backlog, history, readiness, services, store  # noqa: E402
from decisions.store import analytics  # noqa: E402

PAST = dt.date(2022, 6, 1)


def demo_database(directory: Path, scale: float) -> Path:
    path = directory / f"demo-scale-{scale:g}.db"
    if not path.exists():
        print(f"building {path} ...", flush=True)
        subprocess.run([sys.executable, "-m", "decisions", "demo", "--db", str(path),
                        "--scale", f"{scale:g}"], cwd=REPO, check=True)  # fmt: skip
    return path


def best_of(repeat: int, step: Callable[[], object]) -> tuple[float, float]:
    """The best wall-clock and CPU seconds of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def steps(conn) -> dict[str, Callable[[], object]]:
    today = services.today(conn)
    whole = history.prepare(analytics.load_readiness_tables(conn))
    extra = analytics.load_backlog_tables(conn, (today - dt.timedelta(days=28)).isoformat())
    decisions = backlog.current(whole, extra, today)
    _, waves = readiness.assess(conn, today, weeks=readiness.BURN_UP_WEEKS)
    return {
        "readiness, all waves, at the clock": lambda: readiness.assess(conn, today),
        f"readiness, all waves, as of {PAST}": lambda: readiness.assess(conn, PAST),
        "readiness page load (26 weeks of history)": lambda: readiness.assess(
            conn, today, weeks=readiness.BURN_UP_WEEKS
        ),
        "burn-up of the biggest wave": lambda: readiness.burn_up(
            whole, max(waves, key=lambda w: int(w.snapshot.in_scope.sum())), 26
        ),
        "backlog: load everything": lambda: (
            history.prepare(analytics.load_readiness_tables(conn)),
            analytics.load_backlog_tables(conn, today.isoformat()),
        ),
        "backlog: decisions as of today": lambda: backlog.current(whole, extra, today),
        "backlog: cumulative flow (26 weeks)": lambda: backlog.cumulative_flow(whole, today),
        "backlog: aging": lambda: backlog.aging(decisions),
        "backlog: time per stage": lambda: backlog.time_per_stage(whole.tables["stage_events"]),
        "backlog: time per escalation level": lambda: backlog.time_per_level(whole, extra),
        "backlog: bottlenecks by domain and forum": lambda: (
            backlog.bottlenecks(decisions, today, "domain"),
            backlog.bottlenecks(decisions, today, "forum"),
        ),
        "backlog: past needed-by": lambda: backlog.overdue(decisions, today),
        "backlog: workload": lambda: backlog.workload(extra, decisions, today),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--db-dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for scale in args.scale:
        conn = store.connect(demo_database(args.db_dir, scale))
        count = store.scalar(conn, "SELECT count(*) FROM decisions")
        print(f"\nscale {scale:g}: {count:,} decisions "
              f"(best of {args.repeat}; wall / CPU seconds)")  # fmt: skip
        for name, step in steps(conn).items():
            wall, cpu = best_of(args.repeat, step)
            print(f"  {name:<45} {wall:7.3f} {cpu:7.3f}", flush=True)
        conn.close()


if __name__ == "__main__":
    main()
