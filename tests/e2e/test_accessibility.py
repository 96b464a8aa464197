"""WCAG 2.1 AA on every page of the app: a manager opens each page in bokmål and in English,
at 1440 px and at 390 px, and axe-core finds no violation of the WCAG 2.1 A and AA rules. One
browser and one server; the widths are one page resized (the layout follows the viewport)."""

from __future__ import annotations

import sqlite3

import pytest

from decisions import planning, services, store
from decisions.store import decisions as decision_store
from tests.e2e.conftest import SHOTS, idle

WIDTHS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})
PAGES = ("overview", "decisions", "decision?key={decision}", "my_work", "notices",
         "new_decision", "demos", "approvals", "testing", "suspect", "readiness?wave={wave}",
         "backlog", "plan", "data", "people", "accessibility", "demo?key={demo}")  # fmt: skip


def manager_and_decision(path) -> tuple[str, str]:
    conn = sqlite3.connect(path)
    try:
        manager = conn.execute("SELECT min(expert) FROM expert_roles WHERE role = 'manager'")
        decision = conn.execute("SELECT min(key) FROM decisions")
        return manager.fetchone()[0], decision.fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def app(demo_db_copy, start_app) -> tuple[str, str, str, str, str]:
    """A server on a copy of the small demo whose first wave has a go/no-go decision (so the
    Readiness page shows one); returns its URL, a manager's email, a decision's key, the wave
    and a held demo that showed decisions (so its page lists them and their verdicts)."""
    manager, decision = manager_and_decision(demo_db_copy)
    conn = store.connect(demo_db_copy)
    wave = store.scalar(conn, "SELECT min(code) FROM waves")
    forum = store.scalar(conn, "SELECT code FROM forums ORDER BY level DESC, code LIMIT 1")
    planning.record_go_no_go(conn, decision_store.load_actor(conn, manager), wave,
                             outcome="go_with_conditions", meeting_date=services.today(conn),
                             forum=forum, minutes="Go once the lab orders are approved.",
                             conditions="Lab orders approved")  # fmt: skip
    demo = store.scalar(conn, "SELECT min(key) FROM demos WHERE held = 1 AND key IN "
                              "(SELECT demo FROM demo_decisions)")  # fmt: skip
    conn.close()
    return start_app(demo_db_copy), manager, decision, wave, demo


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_every_page_meets_wcag_2_1_aa_at_both_widths(browser, app, locale,
                                                     accessibility_violations):  # fmt: skip
    url, manager, decision, wave, demo = app
    context = browser.new_context(locale=locale, viewport=WIDTHS[0])
    page = context.new_page()
    found = {}
    try:
        for name in PAGES:
            path = name.format(decision=decision, wave=wave, demo=demo)
            joiner = "&" if "?" in path else "?"
            page.goto(f"{url}/{path}{joiner}as={manager}")
            idle(page)
            assert page.get_by_text("Page not found").count() == 0, path
            assert page.get_by_test_id("stSidebarNavLink").count() > 10, "not signed in"
            for size in WIDTHS:
                width = size["width"]
                page.set_viewport_size(size)
                idle(page)
                violations = accessibility_violations(page)
                if violations:
                    found[f"{path} {width}px"] = violations
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SHOTS / f"axe-{locale}-{name[:8]}-{width}.png"))
            page.set_viewport_size(WIDTHS[0])
    finally:
        context.close()
    assert not found, "\n".join(
        f"{where}: {v['rule']} ({v['impact']}) {v['help']}: {'; '.join(v['elements'])}"
        for where, violations in found.items()
        for v in violations
    )


@pytest.mark.parametrize("size", WIDTHS, ids=lambda size: f"{size['width']}px")
def test_the_language_switch_meets_wcag_once_chosen(browser, demo_db_copy, start_app, size,
                                                    accessibility_violations):  # fmt: skip
    """The chosen language's button keeps the focus (and the pointer) after the page reruns."""
    manager, _decision = manager_and_decision(demo_db_copy)
    url = start_app(demo_db_copy)
    context = browser.new_context(locale="nb-NO", viewport=size)
    page = context.new_page()
    try:
        page.goto(f"{url}/my_work?as={manager}")
        idle(page)
        if size["width"] < WIDTHS[0]["width"]:
            page.get_by_test_id("stExpandSidebarButton").click()
        switch = page.locator(".st-key-_language")
        switch.get_by_role("radio", name="English").click()
        idle(page)
        assert switch.get_by_role("radio", name="English").get_attribute("aria-checked") == "true"
        violations = accessibility_violations(page)
    finally:
        context.close()
    assert not violations, violations
