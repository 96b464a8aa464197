"""Issue 12, the tester's journey in a real browser, on a private copy of the small demo
programme: sign in, land, open the run a row of My work asks for, log a failed run, record the
defect filled in from the run, retest with a pass, answer the question about the open defect
by closing it. At desktop width the whole way (12 clicks from the Overview, 11 where the
tester lands on My work; 13 and 12 before issue 24, when the row opened the decision and its
"Log a test run" link the run); at phone width from a card of My work (11 taps, as from the
decision page before). Screenshots of every step go to /tmp/shots/tester/.

Before issue 12 the same journey took about 19 clicks and three typed keys on the old
screens: the link from the decision opened the Test cases tab, so the tester clicked Record a
run, typed the test case's key to find it, typed the defect's title, chose both severities
from drop-downs (two clicks each), and after the pass went to the Defects tab, typed the
defect's key and chose the status closed from a drop-down; nothing asked about the defect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import store
from decisions.store import evidence as evidence_store
from decisions.store import queues
from tests.e2e.test_foundation_journey import select_row

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/tester")
NOTES = "Reference range is printed in the wrong unit"


def a_decision_to_test(db_path) -> dict:
    """A tester with that role alone (their My work opens on Tests to run) and a row near the
    top of that queue whose decision has one test case, covering it alone, with no defect
    open on either."""
    conn = store.connect(db_path)
    try:
        tester = store.one(
            conn,
            "SELECT e.email FROM experts e WHERE e.active = 1 AND EXISTS (SELECT 1 FROM "
            "expert_roles r WHERE r.expert = e.email AND r.role = 'tester') AND NOT EXISTS "
            "(SELECT 1 FROM expert_roles r WHERE r.expert = e.email AND r.role <> 'tester') "
            "AND NOT EXISTS (SELECT 1 FROM forum_members f WHERE f.expert = e.email) "
            "ORDER BY e.email LIMIT 1",
        )
        queue = queues.cases_to_run(conn, tester=tester["email"])
        for row, found in enumerate(queue.head(8).itertuples()):
            if (
                len(evidence_store.test_cases_of_decision(conn, found.key)) == 1
                and evidence_store.get_test_case(conn, found.test_case)["decisions"] == [found.key]
                and not evidence_store.unresolved_defects_of_test_case(conn, found.test_case)
            ):
                return {"tester": tester["email"], "key": found.key,
                        "case": found.test_case, "row": row}  # fmt: skip
    finally:
        conn.close()
    raise AssertionError("no decision near the top of Tests to run fits the journey")


def log_a_failed_run_then_retest(page, wait_idle, case: dict, width: int) -> int:
    """From the testing page opened on the test case a queue asked to run: the failed run, its
    defect, the pass and the answer about the defect. Returns the clicks it took."""
    key, test_case = case["key"], case["case"]
    clicks = 0
    expect(page.get_by_text(f"Testing {test_case}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Back to {key}")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("combobox")).to_have_count(1)  # the tester, in the run's form
    wait_idle(page)
    page.screenshot(path=str(SHOTS / f"{width}-3-log-a-run.png"), full_page=True)

    form = page.get_by_test_id("stForm").filter(has_text="Log the run")
    form.get_by_text("failed", exact=True).click()
    form.get_by_role("textbox", name="Notes").click()
    form.get_by_role("textbox", name="Notes").fill(NOTES)
    form.get_by_role("button", name="Log the run").click()
    clicks += 3
    flash = page.get_by_test_id("stAlert").filter(has_text=f"of {test_case} logged: failed")
    expect(flash).to_contain_text(f"Now: {key} (In test)")
    defect_form = page.get_by_test_id("stForm").filter(has_text="Record the defect")
    expect(defect_form.get_by_role("textbox", name="Defect title")).to_have_value(NOTES)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / f"{width}-4-failed-defect-asked.png"), full_page=True)

    radio = page.get_by_test_id("stRadio")
    radio.filter(has_text="Vendor severity").get_by_text("3 moderate", exact=True).click()
    radio.filter(has_text="Clinical severity").get_by_text("1 critical", exact=True).click()
    defect_form.get_by_role("button", name="Record the defect").click()
    clicks += 3
    flash = page.get_by_test_id("stAlert").filter(has_text="recorded and linked to run")
    expect(flash).to_be_visible()
    defect = re.search(r"Defect (DEF-\d+)", flash.inner_text()).group(1)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / f"{width}-5-defect-recorded.png"), full_page=True)

    form = page.get_by_test_id("stForm").filter(has_text="Log the run")
    form.get_by_text("passed", exact=True).click()
    form.get_by_role("button", name="Log the run").click()
    clicks += 2
    expect(page.get_by_text("The run passed, but 1 linked defect is still open")).to_be_visible()
    question = page.get_by_test_id("stForm").filter(has_text="Save the answers")
    expect(question).to_contain_text(defect)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / f"{width}-6-pass-asks.png"), full_page=True)

    question.get_by_text("Close it", exact=True).click()
    question.get_by_role("button", name="Save the answers").click()
    clicks += 2
    flash = page.get_by_test_id("stAlert").filter(has_text=f"Closed: {defect}.")
    expect(flash).to_contain_text(f"No defect is open on {test_case} or its decisions now.")
    wait_idle(page)
    page.screenshot(path=str(SHOTS / f"{width}-7-closed.png"), full_page=True)
    return clicks


def stored(db_path, case: dict) -> tuple[str, list[str]]:
    conn = store.connect(db_path)
    try:
        stage = store.scalar(conn, "SELECT stage FROM decisions WHERE key = ?", (case["key"],))
        statuses = [r["status"] for r in store.rows(
            conn, "SELECT status FROM defects WHERE test_case = ? ORDER BY key",
            (case["case"],))]  # fmt: skip
    finally:
        conn.close()
    return stage, statuses


def test_a_tester_fails_a_run_records_its_defect_and_closes_it_after_the_retest(
    demo_db_copy, start_app, page, wait_idle, sign_in_as
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = a_decision_to_test(demo_db_copy)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(start_app(demo_db_copy))
    sign_in_as(page, case["tester"])
    page.screenshot(path=str(SHOTS / "1440-0-landed.png"))
    clicks = 0
    landed_on_my_work = page.get_by_role("heading", name="My work").is_visible()
    if not landed_on_my_work:  # this branch lands a tester on the Overview; main on My work
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="My work").click()
        clicks += 1
    expect(page.get_by_role("tab", name=re.compile("^Tests to run"))).to_have_attribute(
        "aria-selected", "true"
    )
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("td").filter(has_text=re.compile(f"^{case['key']}$"))).to_be_attached()
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "1440-1-my-work.png"))
    select_row(page, grid, case["row"])
    clicks += 1
    clicks += log_a_failed_run_then_retest(page, wait_idle, case, 1440)
    assert stored(demo_db_copy, case) == ("tested", ["closed"])
    assert clicks == (11 if landed_on_my_work else 12)


def test_on_a_phone_from_a_card_of_my_work(demo_db_copy, start_app, page, wait_idle):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = a_decision_to_test(demo_db_copy)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{start_app(demo_db_copy)}/my_work?as={case['tester']}")
    wait_idle(page)
    cards = page.locator('[class*="st-key-narrow_my_work_"]').first
    expect(cards).to_be_visible()
    expect(page.locator('[class*="st-key-wide_my_work_"]').first).to_be_hidden()
    page.screenshot(path=str(SHOTS / "390-1-my-work.png"))
    cards.get_by_role("link", name=re.compile(f"^{case['key']} · ")).click()
    clicks = 1
    clicks += log_a_failed_run_then_retest(page, wait_idle, case, 390)
    assert stored(demo_db_copy, case) == ("tested", ["closed"])
    assert clicks == 11
