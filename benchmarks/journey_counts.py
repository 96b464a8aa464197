"""Clicks and typed fields per role's main journey, with the mouse, and key presses by keyboard
alone: the journeys of tests/e2e/journeys.py, run in headless Chromium against the real app on
a fresh copy of the small demo programme (one copy and one server per way of driving). Rerun it
after a screen changes to see what the change did to each journey.

    python benchmarks/journey_counts.py                       # every journey, both ways
    python benchmarks/journey_counts.py --journeys expert tester --drivers mouse
    python benchmarks/journey_counts.py --width 390 --height 844 --json /tmp/counts.json

Counts, not timings, so the machine's load does not change them. A journey that fails is
reported with its error and the others still run."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e import journeys  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_SCALE, TIMEOUT_MS, Servers  # noqa: E402

DRIVERS = {"mouse": journeys.Mouse, "keyboard": journeys.Keyboard}


def demo_programme(folder: Path) -> Path:
    path = folder / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "decisions", "demo", "--db", str(path), "--scale", DEMO_SCALE],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return path


def copy_of(db: Path, target: Path) -> Path:
    source, copy = sqlite3.connect(db), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return target


def run_journeys(browser, base: str, db: Path, driver: str, names: list[str], size: dict) -> dict:
    """Each named journey in a fresh browser context: its counts, or its error."""
    results = {}
    for name in names:
        context = browser.new_context(viewport=size)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        way = DRIVERS[driver](page)
        try:
            journeys.JOURNEYS[name](way, base, db)
        except Exception as error:  # reported; the other journeys still run
            results[name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        else:
            counts = way.counts
            results[name] = {"clicks": counts.clicks, "keys": counts.keys,
                             "fields": counts.fields, "unfocusable": counts.unfocusable}  # fmt: skip
        context.close()
    return results


def table(results: dict[str, dict]) -> str:
    lines = ["journey   mouse: clicks/fields   keyboard: keys/fields"]
    names = sorted({name for by_driver in results.values() for name in by_driver})
    for name in names:
        cells = []
        for driver, measure in (("mouse", "clicks"), ("keyboard", "keys")):
            got = results.get(driver, {}).get(name)
            if got is None:
                cells.append("-")
            elif "error" in got:
                cells.append("failed")
            else:
                cells.append(f"{got[measure]}/{got['fields']}")
        lines.append(f"{name:<9} {cells[0]:>21}   {cells[1]:>19}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a programme to copy (default: a new small demo)")
    parser.add_argument("--journeys", nargs="+", choices=list(journeys.JOURNEYS),
                        default=list(journeys.JOURNEYS))  # fmt: skip
    parser.add_argument("--drivers", nargs="+", choices=list(DRIVERS), default=list(DRIVERS))
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args()
    expect.set_options(timeout=TIMEOUT_MS)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="journey-counts-") as work:
        folder = Path(work)
        source = args.db or demo_programme(folder)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for driver in args.drivers:
                db = copy_of(source, folder / f"{driver}.db")
                servers = Servers(folder)
                try:
                    base = servers.start(db)
                    size = {"width": args.width, "height": args.height}
                    results[driver] = run_journeys(browser, base, db, driver, args.journeys, size)
                finally:
                    servers.stop_all()
            browser.close()
    print(f"at {args.width}x{args.height}, load {os.getloadavg()[0]:.1f}")
    print(table(results))
    for driver, by_journey in results.items():
        for name, got in by_journey.items():
            if "error" in got:
                print(f"{name} by {driver} failed: {got['error']}")
            elif got["unfocusable"]:
                print(f"{name} by {driver}: no visible focus on {got['unfocusable']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
