"""Time what a person waits for in the real server: click -> the app idle again, with
Streamlit's post-run garbage collection on and off (`runner.postScriptGC`).

    python benchmarks/bench_rerun.py [--scale 1] [--clicks 15] [--rounds 2]

Starts `streamlit run` on the demo database of that scale (built once as
/tmp/bench-s<scale>.db), signs in as an admin in headless Chromium, opens the Decisions page
and toggles a sidebar filter `--clicks` times, timing each rerun in the browser from the click
to the script state `notRunning`. Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_pages import demo_database, sample  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, AppProcess, idle, sign_in  # noqa: E402

WATCH = """() => {
  window.states = [];
  new MutationObserver((changes) => changes.forEach((change) => window.states.push(
    [performance.now(), change.target.getAttribute('data-test-script-state')])))
  .observe(document.body, {attributes: true, subtree: true,
                           attributeFilter: ['data-test-script-state']});
}"""
RERUN_DONE = """() => window.states.some((s) => s[1] === 'running')
  && window.states.at(-1)[1] === 'notRunning'"""


def click_to_idle_ms(url: str, email: str, clicks: int) -> list[float]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        sign_in(page, email)
        page.get_by_role("link", name="Decisions").click()
        expect(page.get_by_text("found. Select")).to_be_visible(timeout=60_000)
        idle(page)
        page.evaluate(WATCH)
        pill = page.get_by_test_id("stSidebar").get_by_text("viewer", exact=True)
        times = []
        for _ in range(clicks + 2):  # the first two warm up
            page.evaluate("() => { window.states = []; window.clicked = performance.now(); }")
            pill.click()
            page.wait_for_function(RERUN_DONE, timeout=60_000)
            times.append(page.evaluate("() => window.states.at(-1)[0] - window.clicked"))
        browser.close()
    return times[2:]


def measure(db: Path, gc: bool, clicks: int) -> list[float]:
    with tempfile.TemporaryDirectory() as work:
        app = AppProcess(db, Path(work) / "server.log", ("--runner.postScriptGC", str(gc).lower()))
        try:
            app.wait_healthy()
            return click_to_idle_ms(app.url, sample(db)["admin"], clicks)
        finally:
            app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--clicks", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    db = demo_database(args.scale)
    for _ in range(args.rounds):
        for gc in (True, False):
            times = measure(db, gc, args.clicks)
            print(
                f"postScriptGC {str(gc):<5}  click -> idle ms: median {statistics.median(times):.0f}"
                f"  min {min(times):.0f}  max {max(times):.0f}  (n={len(times)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
