"""Write the README's capacity table from bench_load.py results, never by hand.

    python benchmarks/bench_load.py ... --json benchmarks/results/NAME.json   # one per row
    python benchmarks/capacity_table.py benchmarks/results/*.json             # rewrite README.md
    python benchmarks/capacity_table.py --check benchmarks/results/*.json     # fail if stale

Everything between the markers in README.md is replaced: one row per result (its load, the
settings it ran with, the figures), the date, machine and load average of each run, and what the
measured CPU per page run means for a programme of 400 experts and 50 managers.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- capacity table: begin (benchmarks/capacity_table.py writes this part) -->"
END = "<!-- capacity table: end -->"
PEOPLE = 450  # 400 experts and 50 managers
BUSY_PAGE_EVERY = 30.0  # seconds between a person's pages at a busy hour, a third at work
PEAK_PAGE_EVERY = (10.0, 5.0)  # all of them at once: a go/no-go meeting
CORE_BUSY = 0.7  # keep a core at most this busy, or queueing grows p95 several-fold
SCALE_WORDS = {1: "demo (3,000 decisions)", 10: "10x (30,000 decisions)"}


def load(paths: list[Path]) -> list[dict]:
    results = [json.loads(path.read_text()) for path in paths]
    return sorted(results, key=lambda r: (r["settings"]["scale"], -r["settings"]["sessions"],
                                          r["settings"]["processes"]))  # fmt: skip


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def row(result: dict) -> str:
    settings, pages = result["settings"], result["pages"]
    steady = {name: p for name, p in pages.items() if name not in ("sign_in", "connection")}
    slowest = max(steady, key=lambda name: steady[name].get("p95", 0))
    scale = SCALE_WORDS.get(settings["scale"], f"{settings['scale']:g}x")
    changes = f"one every {settings['write_every']:g} s" if settings["write_every"] else "none"
    max_age = settings["dashboard_max_age"]
    writes = result["writes"] or {"lost": 0}
    errors = result["all"]["errors"] + pages.get("sign_in", {}).get("errors", 0)
    return " | ".join([
        "",
        f"{scale}, {settings['sessions']} sessions ({settings['think']:g} s think, changes "
        f"{changes})",
        str(settings["processes"]) + ("" if settings.get("aggregate_worker") else
                                      " (aggregates computed in it, no worker)"),
        app_default_max_age() if max_age is None else f"{max_age:g} s",
        seconds(result["all"]["p95"]),
        f"{slowest.replace('_', ' ')} {seconds(steady[slowest]['p95'])}",
        warmed(result),
        seconds(pages["sign_in"]["p95"]) if "sign_in" in pages else "",
        f"{result['runs_per_second']:.1f}",
        f"{result['server_cpu']['per_run']:.3f} s" if result["server_cpu"] else "",
        f"{result['all']['bytes'] / 1000:.0f} kB",
        f"{errors}, {writes['lost']}",
        f"{result['load']['start']:.1f}-{result['load']['end']:.1f}",
        f"{result['date'][:16].replace('T', ' ')}, {settings.get('commit') or ''}",
        "",
    ]).strip()  # fmt: skip


def cores_for(rate: float, cost: float) -> str:
    cores = rate * cost / CORE_BUSY
    return f"{cores:.1f} cores ({math.ceil(cores)} process{'es' if math.ceil(cores) > 1 else ''})"


def app_default_max_age() -> str:
    """ui.DEFAULT_MAX_AGE, what a run without --dashboard-max-age had ("default" if moved)."""
    tree = ast.parse((README.parent / "ui.py").read_text())
    found = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
             and isinstance(node.value, ast.Constant)
             and [getattr(t, "id", None) for t in node.targets] == ["DEFAULT_MAX_AGE"]]  # fmt: skip
    return f"{found[0]:g} s (default)" if found else "default"


def warmed(result: dict) -> str:
    """p95 of the runs after the warm-up, and the slowest page's."""
    warm = result.get("after_warm_up") or {}
    if not warm.get("all"):
        return ""
    page = max(warm["pages"], key=warm["pages"].get)
    return f"{seconds(warm['all'])} ({page.replace('_', ' ')} {seconds(warm['pages'][page])})"


def meaning(results: list[dict]) -> str:
    """What the measured CPU per page run means for 400 experts and 50 managers."""
    costs = [r["server_cpu"]["per_run"] for r in results if r["server_cpu"]]
    if not costs:
        return ""
    low, high = min(costs), max(costs)
    busy = PEOPLE / 3 / BUSY_PAGE_EVERY
    peak = [PEOPLE / every for every in PEAK_PAGE_EVERY]
    return (
        f"What it means for a programme of 400 experts and 50 managers: a page run cost the "
        f"server {low:.3f}-{high:.3f} s of CPU in these runs (the most at 10x volume), and a "
        f"process uses at most one core. Cores are counted kept under {CORE_BUSY:.0%} busy, "
        f"where queueing does not yet multiply the wait. At a busy hour, a third of them at "
        f"work and a page every {BUSY_PAGE_EVERY:g} s each, they ask for {busy:.0f} page runs a "
        f"second: {cores_for(busy, low)} to {cores_for(busy, high)}. If all {PEOPLE} click "
        f"every {PEAK_PAGE_EVERY[1]:g}-{PEAK_PAGE_EVERY[0]:g} s (a go/no-go meeting) they ask "
        f"for {peak[0]:.0f}-{peak[1]:.0f} runs a second: {cores_for(peak[0], low)} to "
        f"{cores_for(peak[1], high)}, one process per core (`scripts/serve --processes N`)."
    )


def warm_up(results: list[dict]) -> str:
    return "/".join(sorted({f"{r['warm_up']:g}" for r in results if "warm_up" in r})) or "20"


def machines(results: list[dict]) -> str:
    seen = {(r["machine"]["cores"], r["machine"]["cpu"]) for r in results}
    return "; ".join(f"{cores} cores, {cpu}" for cores, cpu in sorted(seen))


def table(results: list[dict], sources: list[str]) -> str:
    header = ("| programme, load | processes | dashboards' max age | p95, all pages | slowest "
              "page, p95 | p95 after the warm-up (slowest page) | sign-in p95 | page runs/s "
              "| server CPU per run | received per run | errors, lost writes | load average "
              "| run (UTC), commit |")  # fmt: skip
    lines = [
        f"`benchmarks/bench_load.py` on {machines(results)}, the load driver on the same machine "
        f"({', '.join(f'`{s}`' for s in sources)}). p95 of all page runs leaves the first load "
        '(the sign-in) out; "after the warm-up" leaves out the runs that began in the first '
        f"{warm_up(results)} s (every aggregate's first computation, everyone signing in); "
        '"received" is what a browser receives per page run, holding the '
        "large elements it already has as Streamlit's browser does. The load average is the "
        "machine's at the run's start and end (other programs share it): the seconds are "
        "inflated by it, CPU per run and bytes much less.",
        "",
        header,
        "|" + "---|" * (header.count("|") - 1),
        *[row(r) for r in results],
        "",
        meaning(results),
    ]
    return "\n".join(lines)


def render(readme: str, text: str) -> str:
    before, found, rest = readme.partition(BEGIN)
    _, found_end, after = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"README.md has no {BEGIN!r} ... {END!r}")
    return f"{before}{BEGIN}\n{text}\n{END}{after}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="bench_load.py --json files")
    parser.add_argument("--check", action="store_true", help="fail if README.md is not current")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    root = args.readme.resolve().parent
    sources = [str(p.resolve().relative_to(root)) if p.resolve().is_relative_to(root) else str(p)
               for p in args.results]  # fmt: skip
    current = args.readme.read_text()
    wanted = render(current, table(load(args.results), sources))
    if args.check:
        if wanted != current:
            sys.exit("README.md's capacity table is not the one these results give")
        return
    args.readme.write_text(wanted)


if __name__ == "__main__":
    main()
