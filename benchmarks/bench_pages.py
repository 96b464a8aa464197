"""Time every page's server-side run at demo volume (scale 1) and ten times that (scale 10).

    python benchmarks/bench_pages.py                    # both scales, every page
    python benchmarks/bench_pages.py --scales 1 --pages overview decision
    python benchmarks/bench_pages.py --gc off           # without Streamlit's post-run GC
    python benchmarks/bench_pages.py --profile readiness --scales 10

Each page runs through streamlit_app.py with AppTest, signed in (an admin, so every form and
action is drawn; My work and Decision also as the busiest expert), one warm-up run and then
`--runs` timed runs; the median is compared with an empty script's run in the same process.
AppTest leaves out the garbage collection the server does after every run
(`runner.postScriptGC`); this script puts it back, as the server does it, so the figures
include it whenever the configuration (.streamlit/config.toml, or --gc) turns it on.
Demo databases are built once as /tmp/bench-s<scale>.db and reused. The aggregates are computed
in this process, not in a worker process as the server does, so that "changed" (a run after a
change of the data) counts the CPU of computing them.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.chdir(REPO)  # AppTest paths and .streamlit/config.toml are relative to the repo
if __name__ == "__main__":  # not when bench_load imports it: its server inherits the variable
    # The aggregates are computed in this process, so that "changed" counts their CPU (the
    # server computes them in its worker process, on another core).
    os.environ["DECISIONS_AGGREGATE_WORKER"] = "0"

import streamlit as st  # noqa: E402
from streamlit import config  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest, app_test, local_script_runner  # noqa: E402
from streamlit.testing.v1.local_script_runner import LocalScriptRunner  # noqa: E402

import ui  # noqa: E402
from decisions import store  # noqa: E402

TARGETS = {1: 0.5, 10: 2.0}  # seconds per page run
PAGES = sorted(path.stem for path in (REPO / "pages").glob("*.py"))
AS_EXPERT_TOO = ("my_work", "decision")
# Only the open Backlog tab computes: each tab beyond the first is timed on its own.
BACKLOG_TABS = ("Aging", "Time per stage", "Bottlenecks", "Past needed-by", "Workload")


def restore_post_run_gc() -> None:
    """Run gc.collect(2) after each script run when runner.postScriptGC is on, as the server's
    ScriptRunner does (AppTest's LocalScriptRunner skips it)."""
    finished = LocalScriptRunner._on_script_finished

    def on_script_finished(self, *args, **kwargs):
        finished(self, *args, **kwargs)
        if config.get_option("runner.postScriptGC"):
            gc.collect(2)

    LocalScriptRunner._on_script_finished = on_script_finished


def skip_pages_directory_mode() -> None:
    """Run the entry script straight away, as the server does after its first run.

    With a pages/ folder, Streamlit starts in its old pages-directory mode until st.navigation
    is called; AppTest resets that before every run, so each run would first start the page on
    its own and rerun through streamlit_app.py (ui.require_frame), which the server does not.
    """
    created = PagesManager.__init__

    def init(self, *args, **kwargs):
        created(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def share_script_cache() -> None:
    """Compile each script once per process, as the server's runtime does; AppTest compiles
    (and rewrites for magic) the entry script and the page again on every run."""
    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def demo_database(scale: float) -> Path:
    path = Path(f"/tmp/bench-s{scale:g}.db")
    if not path.exists():
        print(f"building the demo at scale {scale:g} into {path} …", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "decisions", "demo", "--db", str(path), "--scale", f"{scale:g}"],
            cwd=REPO,
            check=True,
        )
    store.connect(path).close()  # a demo kept from an older commit gets its new migrations here,
    return path  # not in the timed server's first session


def sample(db: Path) -> dict[str, str]:
    """Who signs in, and the decision the Decision page shows: the busiest of each."""
    conn = store.connect(db, migrate=False)
    try:
        admin = store.scalar(
            conn,
            "SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email "
            "WHERE r.role = 'admin' AND e.active = 1 ORDER BY e.email LIMIT 1",
        )
        expert = store.scalar(
            conn,
            "SELECT m.expert FROM forum_members m JOIN expert_roles r ON r.expert = m.expert "
            "WHERE r.role = 'expert' GROUP BY m.expert ORDER BY count(*) DESC, m.expert LIMIT 1",
        )
        decision = store.scalar(
            conn,
            "SELECT entity_key FROM events WHERE entity = 'decision' GROUP BY entity_key "
            "ORDER BY count(*) DESC, entity_key LIMIT 1",
        )
    finally:
        conn.close()
    return {"admin": admin, "expert": expert, "decision": decision}


class Timing(NamedTuple):
    first_cpu: float  # the warm-up run: the page's first run in the process
    wall: float  # medians of the runs after it
    cpu: float
    changed_cpu: float  # median of runs after a change to the data: every cache cold


def _run(app: AppTest) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    app.run(timeout=120)
    if app.exception:
        raise RuntimeError(app.exception[0].message)
    return time.perf_counter() - wall, time.process_time() - cpu


def _after_a_change(app: AppTest) -> float:
    """CPU seconds of a run with every Streamlit cache emptied, as a change to the data
    leaves them (the caches are keyed on the data marker; the code stays imported)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    ui.AGGREGATES = ui.Aggregates(ui.AGGREGATES._connect)  # the shared aggregates too
    return _run(app)[1]


def timed_runs(app: AppTest, runs: int) -> Timing:
    """The warm-up run's CPU seconds, median wall and CPU seconds of `runs` runs, and of
    `runs` runs after a change to the data; raises if the page fails. CPU time (all threads
    of this process) is steadier than wall time on a busy machine."""
    first = _run(app)[1]
    walls, cpus = zip(*(_run(app) for _ in range(runs)), strict=True)
    changed = [_after_a_change(app) for _ in range(runs)]
    return Timing(first, statistics.median(walls), statistics.median(cpus),
                  statistics.median(changed))  # fmt: skip


def empty_page_median(runs: int) -> Timing:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as empty:
        empty.write("")
    try:
        return timed_runs(AppTest.from_file(empty.name), runs)
    finally:
        os.unlink(empty.name)


class Case(NamedTuple):
    label: str
    page: str
    email: str
    state: dict  # session state set before the timed runs


def page_app(case: Case, decision: str) -> AppTest:
    app = AppTest.from_file(REPO / "streamlit_app.py", default_timeout=120)
    app.session_state["_signed_in"] = case.email
    app.run()
    app.switch_page(f"pages/{case.page}.py")
    if case.page == "decision":
        app.query_params["key"] = decision
    for key, value in case.state.items():
        app.session_state[key] = value
    return app


def cases(pages: list[str], people: dict[str, str]) -> list[Case]:
    """Every run to time."""
    found = [Case(page, page, people["admin"], {}) for page in pages]
    found += [
        Case(f"{page} (expert)", page, people["expert"], {})
        for page in pages
        if page in AS_EXPERT_TOO
    ]
    if "backlog" in pages:
        found += [
            Case(f"backlog: {tab}", "backlog", people["admin"], {"backlog_tab": tab})
            for tab in BACKLOG_TABS
        ]
    return found


def bench_scale(scale: float, pages: list[str], runs: int) -> list[tuple[str, Timing | str]]:
    db = demo_database(scale)
    os.environ["DECISIONS_DB"] = str(db)
    people = sample(db)
    results: list[tuple[str, Timing | str]] = [("(empty page)", empty_page_median(runs))]
    for case in cases(pages, people):
        try:
            results.append((case.label, timed_runs(page_app(case, people["decision"]), runs)))
        except Exception as error:  # a broken page is reported, and the rest still run
            results.append((case.label, f"error: {error}"))
    return results


def print_table(scale: float, results: list[tuple[str, Timing | str]]) -> None:
    target = TARGETS.get(int(scale))
    empty = results[0][1]
    print(f"\nscale {scale:g}  (postScriptGC {config.get_option('runner.postScriptGC')})")
    print(f"{'page':<28} {'first cpu':>9} {'wall s':>8} {'cpu s':>8} {'x empty':>8} "
          f"{'changed':>8}  target")  # fmt: skip
    for label, timing in results:
        if isinstance(timing, str):
            print(f"{label:<28} {timing}")
            continue
        worst = max(timing.cpu, timing.changed_cpu)
        verdict = "" if target is None else ("ok" if worst < target else f"OVER {target} s")
        print(
            f"{label:<28} {timing.first_cpu:>9.3f} {timing.wall:>8.3f} {timing.cpu:>8.3f} "
            f"{timing.cpu / empty.cpu:>8.1f} {timing.changed_cpu:>8.3f}  "
            f"{verdict if timing is not empty else ''}"
        )


def profile(scale: float, page: str, runs: int) -> None:
    """cProfile the script thread (where Streamlit runs the page) over `runs` runs."""
    db = demo_database(scale)
    os.environ["DECISIONS_DB"] = str(db)
    people = sample(db)
    app = page_app(Case(page, page, people["admin"], {}), people["decision"])
    app.run()
    profiler = cProfile.Profile()
    run_script = LocalScriptRunner._run_script

    def profiled(self, *args, **kwargs):
        profiler.enable()
        try:
            return run_script(self, *args, **kwargs)
        finally:
            profiler.disable()

    LocalScriptRunner._run_script = profiled
    for _ in range(runs):
        app.run()
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=PAGES)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page")
    parser.add_argument("--gc", choices=("config", "on", "off"), default="config",
                        help="Streamlit's post-run garbage collection (default: as configured)")  # fmt: skip
    parser.add_argument("--profile", metavar="PAGE", choices=PAGES,
                        help="cProfile this page's runs instead of timing every page")  # fmt: skip
    args = parser.parse_args()
    restore_post_run_gc()
    skip_pages_directory_mode()
    share_script_cache()
    if args.gc != "config":
        config.set_option("runner.postScriptGC", args.gc == "on")
    if args.profile:
        profile(args.scales[0], args.profile, args.runs)
        return
    for scale in args.scales:
        print_table(scale, bench_scale(scale, args.pages, args.runs))


if __name__ == "__main__":
    main()
