"""The foundation's journey in a real browser: the first start builds the demo programme; an
analyst signs in, finds a decided decision by full-text search, opens it, starts its build
and sees that change in its timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from decisions import store
from decisions.store import screen_queries

pytestmark = pytest.mark.e2e

FIRST_RUN = 60_000  # the server's first run imports everything, on a busy machine
DEMO_BUILD_TIMEOUT = 120_000
GRID_HEADER_PX = 35
GRID_ROW_PX = 35


def test_first_start_builds_the_demo_then_shows_the_app(app_server, app_server_db, page, wait_idle):
    assert not app_server_db.exists(), "run this module's tests in order, with a fresh server"
    page.goto(app_server)
    expect(page.get_by_text("Setting up the demo programme")).to_be_visible(timeout=FIRST_RUN)
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    expect(page.get_by_text("Demo programme.")).to_be_visible(timeout=DEMO_BUILD_TIMEOUT)
    wait_idle(page)
    expect(page.get_by_text("Choose who you are in the sidebar")).to_be_visible()
    assert app_server_db.exists()


def a_decided_decision(db_path) -> tuple[dict, str, str]:
    """A decided decision, an analyst, and the words from its title to search for."""
    conn = store.connect(db_path, migrate=False)
    try:
        decision = store.one(
            conn, "SELECT key, title FROM decisions WHERE stage = 'decided' ORDER BY key LIMIT 1"
        )
        analyst = store.scalar(
            conn,
            "SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email "
            "WHERE r.role = 'analyst' AND e.active = 1 ORDER BY e.email LIMIT 1",
        )
    finally:
        conn.close()
    return decision, analyst, " ".join(re.findall(r"\w+", decision["title"]))


def row_of(db_path, text: str, key: str) -> int:
    """Where the register lists `key` when searching `text` (it shows the same query)."""
    conn = store.connect(db_path, migrate=False)
    try:
        named = tuple((n["table"], n["code"]) for n in screen_queries.named(conn, text))
        found, _ = screen_queries.search_decisions(
            conn, screen_queries.RegisterQuery(text=text, named=named)
        )
    finally:
        conn.close()
    return found["key"].tolist().index(key)


def select_row(page, grid, row: int) -> None:
    """Tick a row's selection box in a st.dataframe (the grid is drawn on a canvas)."""
    box = grid.get_by_test_id("data-grid-canvas").bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + GRID_HEADER_PX + GRID_ROW_PX * (row + 0.5))


def test_analyst_finds_a_decision_and_starts_its_build(
    app_server, app_server_db, page, wait_idle, sign_in_as
):
    page.goto(app_server)
    expect(page.get_by_text("Demo programme.")).to_be_visible(timeout=DEMO_BUILD_TIMEOUT)
    decision, analyst, words = a_decided_decision(app_server_db)
    key = decision["key"]
    sign_in_as(page, analyst)

    page.get_by_role("link", name="Decisions").click()
    search = page.get_by_role("textbox", name="Search")
    search.fill(words)
    search.press("Enter")
    grid = page.get_by_test_id("stDataFrame")
    expect(grid.locator("td").filter(has_text=re.compile(f"^{key}$"))).to_be_attached()
    wait_idle(page)
    select_row(page, grid, row_of(app_server_db, words, key))

    expect(page.get_by_role("heading", name=key)).to_be_visible()
    assert f"key={key}" in page.url
    page.get_by_text("Start the build", exact=True).first.click()
    page.get_by_role("button", name="Start the build").click()
    expect(page.get_by_text("Start the build: done")).to_be_visible()
    expect(page.get_by_text("In build", exact=True).first).to_be_visible()
    wait_idle(page)

    page.get_by_role("tab", name="Timeline").click()
    timeline = page.get_by_test_id("stTabs").get_by_test_id("stDataFrame").last
    expect(timeline).to_contain_text("Decided → In build")


def test_deep_link_opens_the_decision_after_sign_in(demo_db_server, demo_db, page, sign_in_as):
    decision, analyst, _ = a_decided_decision(demo_db)
    page.goto(f"{demo_db_server}/decision?key={decision['key']}")
    sign_in_as(page, analyst)
    expect(page.get_by_role("heading", name=decision["key"])).to_be_visible()
    expect(page.get_by_text(decision["title"]).first).to_be_visible()


def test_a_demo_sign_in_survives_a_reload_until_sign_out(
    demo_db_server, demo_db, page, sign_in_as, wait_idle
):
    _, analyst, _ = a_decided_decision(demo_db)
    page.goto(demo_db_server)
    sign_in_as(page, analyst)
    sidebar, menu = page.get_by_test_id("stSidebar"), page.get_by_test_id("stSidebarNav")
    menu.get_by_role("link", name="My work").click()
    wait_idle(page)
    assert "as=" in page.url  # the page link dropped it; the app put it back
    page.reload()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    menu.get_by_role("link", name="Decisions").click()  # the new session remembers it
    expect(page.get_by_role("heading", name="Decisions")).to_be_visible()
    sidebar.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Choose who you are in the sidebar")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Choose who you are in the sidebar")).to_be_visible()
