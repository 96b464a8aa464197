"""The expert's and the tester's journeys in a real browser, on a private copy of the small
demo programme: an expert approves a demonstrated decision from their queue and sees the
approval rule's progress move; a tester records a failed run with a new defect and sees the
decision it covers shown as failing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from decisions import evidence, store

pytestmark = pytest.mark.e2e


def query_one(db_path, sql: str) -> dict:
    conn = store.connect(db_path)
    try:
        row = store.one(conn, sql)
    finally:
        conn.close()
    assert row, f"the demo programme has no row for: {sql}"
    return row


def an_expert_with_a_decision_to_approve(db_path) -> dict:
    """An active expert and the longest-waiting demonstrated decision in their queue that is
    one approval short of the rule, with how far the rule is met now."""
    conn = store.connect(db_path)
    try:
        experts = store.rows(
            conn,
            "SELECT DISTINCT e.email FROM experts e "
            "JOIN expert_roles r ON r.expert = e.email AND r.role = 'expert' "
            "JOIN expert_domains d ON d.expert = e.email "
            "JOIN decisions x ON x.domain = d.domain AND x.stage = 'demonstrated' "
            "WHERE e.active = 1 ORDER BY e.email",
        )
        from decisions.store import queues

        for expert in experts:
            queue = queues.approvals_queue(conn, expert["email"])
            if queue.empty:
                continue
            key = queue["key"].iloc[0]
            progress = evidence.approval_status(conn, [key])[key]
            return {"email": expert["email"], "key": key, "scope": queue["scope"].iloc[0],
                    "approvers": progress.approvers, "needed": progress.needed,
                    "queued": len(queue)}  # fmt: skip
    finally:
        conn.close()
    raise AssertionError("no expert has a demonstrated decision awaiting their verdict")


def choose(page, label: str, text: str) -> None:
    """Pick the option containing `text` in the selectbox labelled `label`."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


def test_an_expert_approves_from_the_queue_and_sees_the_rule_progress(
    demo_db_copy, start_app, page, wait_idle, sign_in_as
):
    case = an_expert_with_a_decision_to_approve(demo_db_copy)
    key = case["key"]
    page.goto(start_app(demo_db_copy))
    sign_in_as(page, case["email"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Approvals").click()
    wait_idle(page)
    expect(
        page.get_by_role("heading", name=f"Awaiting your verdict ({case['queued']})")
    ).to_be_visible()
    queue = page.get_by_test_id("stDataFrame").first
    expect(queue.locator("td").filter(has_text=re.compile(f"^{key}$"))).to_be_attached()
    before = f"{case['approvers']} of {case['needed']} approvers"
    expect(queue).to_contain_text(before)

    choose(page, "Decision", key)
    form = page.get_by_test_id("stForm").filter(has_text="Give your verdict")
    form.get_by_text("Approve", exact=True).click()
    form.get_by_role("button", name="Save verdict").click()

    after = f"{case['approvers'] + 1} of {case['needed']} approvers"
    message = page.get_by_test_id("stAlert").filter(has_text=f"{key}: approve saved")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Approval rule: ")
    expect(message).to_contain_text(after)
    expect(message).to_contain_text(f"(was: {before}")
    expect(
        page.get_by_role("heading", name=f"Awaiting your verdict ({case['queued'] - 1})")
    ).to_be_visible()
    conn = store.connect(demo_db_copy)
    try:
        verdicts = store.scalar(conn, "SELECT count(*) FROM approvals WHERE decision = ? AND "
                                "expert = ? AND verdict = 'approve'", (key, case["email"]))  # fmt: skip
    finally:
        conn.close()
    assert verdicts >= 1


def a_test_case_to_fail(db_path) -> dict:
    """A test case covering exactly one approved decision (so the run moves it in test), and
    a tester."""
    return query_one(
        db_path,
        """
        SELECT tc.key AS test_case, d.key AS decision,
               (SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email
                 WHERE r.role = 'tester' AND e.active = 1 ORDER BY e.email LIMIT 1) AS tester
        FROM test_cases tc JOIN test_case_decisions x ON x.test_case = tc.key
        JOIN decisions d ON d.key = x.decision
        WHERE d.stage IN ('approved', 'tested')
          AND (SELECT count(*) FROM test_case_decisions y WHERE y.test_case = tc.key) = 1
        ORDER BY tc.key LIMIT 1
        """,
    )


def test_a_tester_records_a_failed_run_with_a_defect_and_sees_the_decision_failing(
    demo_db_copy, start_app, page, wait_idle, sign_in_as
):
    case = a_test_case_to_fail(demo_db_copy)
    page.goto(start_app(demo_db_copy))
    sign_in_as(page, case["tester"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Testing").click()
    wait_idle(page)
    page.get_by_role("tab", name="Log a run").click()
    search = page.get_by_role("textbox", name="Find the test case")
    search.fill(case["test_case"])
    search.press("Enter")
    wait_idle(page)
    expect(page.get_by_text(f"Covers: {case['decision']}")).to_be_visible()

    form = page.get_by_test_id("stForm").filter(has_text="Log the run")
    form.get_by_text("failed", exact=True).click()
    form.get_by_role("button", name="Log the run").click()
    message = page.get_by_test_id("stAlert").filter(has_text=f"of {case['test_case']} logged")
    expect(message).to_contain_text(f"failed. Now: {case['decision']} (In test)")

    defect = page.get_by_test_id("stForm").filter(has_text="Record the defect")
    defect.get_by_role("textbox", name="Defect title").fill("Dose is rounded to whole mg")
    radio = page.get_by_test_id("stRadio")
    radio.filter(has_text="Vendor severity").get_by_text("3 moderate", exact=True).click()
    radio.filter(has_text="Clinical severity").get_by_text("1 critical", exact=True).click()
    defect.get_by_role("button", name="Record the defect").click()
    expect(page.get_by_text("recorded and linked to run")).to_be_visible()
    wait_idle(page)

    page.get_by_role("tab", name="Coverage of a wave").click()
    search = page.get_by_role("textbox", name="Find a decision or test case")
    search.fill(case["decision"])
    search.press("Enter")
    wait_idle(page)
    failing = (
        page.get_by_test_id("stDataFrame")
        .filter(has=page.locator("th, td").filter(has_text=re.compile("^Defect$")))
        .first
    )
    row_cells = failing.locator("td").filter(has_text=re.compile(f"^{case['decision']}$"))
    expect(row_cells).to_be_attached()
    expect(failing).to_contain_text(case["test_case"])
    expect(failing).to_contain_text("failed")
