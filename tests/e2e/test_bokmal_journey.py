"""Issue 14 in a real browser: a Norwegian browser gets the app in bokmål without anyone choosing
it; an expert lands on their own work and gives a verdict in bokmål, at desktop and phone widths;
the language switch in the sidebar then turns the app English for that person, and the choice
outlives the session. Screenshots go to /tmp/shots/bokmal/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import store
from tests.e2e.test_expert_and_tester_journeys import an_expert_with_a_decision_to_approve

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/bokmal")


@pytest.fixture
def norwegian_page(bokmal_browser):
    """A page in a browser whose preferred language is Norwegian bokmål."""
    return bokmal_browser({"width": 1440, "height": 900})


def verdicts_by(db_path, email: str, key: str) -> list[str]:
    conn = store.connect(db_path)
    try:
        return [r["verdict"] for r in store.rows(
            conn, "SELECT verdict FROM approvals WHERE expert = ? AND decision = ?", (email, key)
        )]  # fmt: skip
    finally:
        conn.close()


def a_manager(db_path) -> str:
    conn = store.connect(db_path)
    try:
        return store.scalar(conn, "SELECT min(expert) FROM expert_roles WHERE role = 'manager'")
    finally:
        conn.close()


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_a_norwegian_browser_gets_bokmal_and_an_expert_gives_a_verdict_in_it(
    demo_db_copy, start_app, norwegian_page, wait_idle, width, height
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = norwegian_page
    page.set_viewport_size({"width": width, "height": height})
    case = an_expert_with_a_decision_to_approve(demo_db_copy)
    base = start_app(demo_db_copy)
    page.goto(f"{base}/?as={case['email']}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Mitt arbeid")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"landing-{width}.png"))
    page.goto(f"{base}/decision?key={case['key']}&as={case['email']}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Din vurdering venter")).to_be_visible()
    page.get_by_role("button", name="Gi vurdering").click()  # no choice made yet
    expect(page.get_by_text("en kommentar alene gir ingen vurdering")).to_be_visible()
    assert verdicts_by(demo_db_copy, case["email"], case["key"]) == []
    page.get_by_test_id("stRadio").filter(has_text="Din vurdering").get_by_text(
        "Godkjenn", exact=True
    ).click()
    page.get_by_role("button", name="Gi vurdering").click()
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_be_visible()
    page.screenshot(path=str(SHOTS / f"verdict-given-{width}.png"), full_page=True)
    assert verdicts_by(demo_db_copy, case["email"], case["key"]) == ["approve"]


def test_the_language_switch_turns_the_app_english_for_that_person_only(
    demo_db_copy, start_app, norwegian_page, browser, wait_idle
):
    page = norwegian_page
    case = an_expert_with_a_decision_to_approve(demo_db_copy)
    base = start_app(demo_db_copy)
    page.goto(f"{base}/?as={case['email']}")
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="Mitt arbeid")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Personer og innstillinger")).to_have_count(0)
    sidebar.get_by_role("radio", name="English").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(sidebar.get_by_role("link", name="My work")).to_be_visible()
    page.screenshot(path=str(SHOTS / "switched-to-english-1440.png"))
    page.goto(f"{base}/?as={case['email']}")  # a new session in the same Norwegian browser
    wait_idle(page)
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    # Someone else in a Norwegian browser still reads bokmål.
    manager = a_manager(demo_db_copy)
    other = browser.new_context(locale="nb-NO").new_page()
    other.goto(f"{base}/?as={manager}")
    wait_idle(other)
    expect(other.get_by_role("link", name="Oversikt")).to_be_visible()
    other.context.close()
