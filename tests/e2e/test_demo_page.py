"""A page per demo in a real browser, on a private copy of the small demo programme: an expert
who attended a demo finds it in the Demos list by its key, opens it, gives verdicts on two of
its decisions in one sitting, and the page meets WCAG 2.1 AA at 1440 px and at 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from decisions import store
from decisions.store import queues, screen_queries
from tests.e2e.conftest import SHOTS, idle
from tests.e2e.test_foundation_journey import select_row

pytestmark = pytest.mark.e2e

WIDTHS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})
TALL = 2600  # px: a screenshot's height, so that one shows the whole page


def an_expert_with_a_demo_to_review(db_path) -> dict:
    """An expert and a held demo they attended that shows at least two decisions awaiting
    their verdict, with two of those decisions."""
    conn = store.connect(db_path)
    try:
        experts = store.rows(
            conn,
            "SELECT DISTINCT a.expert FROM demo_attendees a JOIN experts e ON e.email = a.expert "
            "WHERE e.active = 1 ORDER BY a.expert",
        )
        for expert in experts:
            email = expert["expert"]
            demos = queues.demos_attended_awaiting_verdicts(conn, email)
            demos = demos[demos["awaiting"] >= 2]
            if demos.empty:
                continue
            demo = demos["key"].iloc[0]
            waiting = set(queues.approvals_queue(conn, email)["key"])
            shown = [d["key"] for d in screen_queries.demo_decisions(conn, demo)]
            return {"email": email, "demo": demo, "keys": [k for k in shown if k in waiting][:2]}
    finally:
        conn.close()
    raise AssertionError("no expert attended a demo with two decisions awaiting their verdict")


def verdicts_of(db_path, email: str, keys: list[str]) -> list[tuple]:
    conn = store.connect(db_path)
    try:
        found = conn.execute(
            "SELECT a.decision, a.verdict, count(e.id) FROM approvals a "
            "LEFT JOIN events e ON e.entity = 'approval' AND e.entity_key = CAST(a.id AS TEXT) "
            "WHERE a.expert = ? AND a.decision IN (?, ?) GROUP BY a.id ORDER BY a.id",
            (email, *keys),
        )
        return [tuple(r) for r in found]
    finally:
        conn.close()


def test_an_expert_opens_a_demo_from_the_list_and_gives_two_verdicts(
    demo_db_copy, start_app, page, wait_idle, sign_in_as, accessibility_violations
):
    case = an_expert_with_a_demo_to_review(demo_db_copy)
    demo, keys = case["demo"], case["keys"]
    before = verdicts_of(demo_db_copy, case["email"], keys)
    base = start_app(demo_db_copy)
    page.goto(base)
    sign_in_as(page, case["email"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Demos").click()
    wait_idle(page)
    search = page.get_by_role("textbox", name="Search")
    search.fill(demo)
    search.press("Enter")
    page.get_by_role("tab", name="Past").click()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("td").filter(has_text=re.compile(f"^{demo}$"))).to_be_attached()
    wait_idle(page)
    select_row(page, grid, 0)

    expect(page.get_by_role("heading", name=demo).first).to_be_visible()
    assert f"key={demo}" in page.url
    wait_idle(page)
    for key in keys:
        choice = page.get_by_test_id("stRadio").filter(has_text=f"Your verdict on {key}")
        choice.get_by_text("Approve", exact=True).click()
    page.get_by_role("button", name="Save my verdicts").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="2 verdicts saved")).to_be_visible()
    wait_idle(page)
    after = verdicts_of(demo_db_copy, case["email"], keys)
    assert after[len(before) :] == [(keys[0], "approve", 1), (keys[1], "approve", 1)]

    found = wcag_at_both_widths(page, "demo-page", accessibility_violations)
    page.goto(f"{base}/demos?as={case['email']}")
    wait_idle(page)
    page.get_by_role("tab", name="Past").click()
    expect(page.get_by_text("Demos 1–")).to_be_visible()
    found |= wcag_at_both_widths(page, "demos-list", accessibility_violations)
    assert not found, "\n".join(
        f"{where}: {v['rule']} ({v['impact']}) {v['help']}: {'; '.join(v['elements'])}"
        for where, violations in found.items()
        for v in violations
    )


def wcag_at_both_widths(page, name: str, violations_of) -> dict[str, list[dict]]:
    """axe-core's WCAG 2.1 AA violations on the page at each width (none: {}), and a
    screenshot of the whole page at each in SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for size in WIDTHS:
        page.set_viewport_size(size)
        idle(page)
        if violations := violations_of(page):
            found[f"{name} {size['width']}px"] = violations
        page.set_viewport_size({"width": size["width"], "height": TALL})
        idle(page)
        page.screenshot(path=str(SHOTS / f"{name}-{size['width']}.png"))
    page.set_viewport_size(WIDTHS[0])
    return found
