"""Issue 24 on a phone (390×844) in a real browser: the menu closes once a page is chosen (one
tap to open it, one to choose: Streamlit closes it by itself only for a browser that says it is
a phone); the Decisions list and My work as cards, not a table wider than the screen; titles
wrap between words in bokmål, not inside one; and the confirmation of a change is in view,
although it is drawn above a form the person scrolled down to. Screenshots at both widths go to
/tmp/shots/phone/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import store
from tests.e2e.test_bokmal_journey import a_manager
from tests.e2e.test_tester_journey import a_decision_to_test

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/phone")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# The words of the page's headings that the browser drew over more than one line.
WORDS_BROKEN = """() => {
  const broken = [];
  for (const heading of document.querySelectorAll(
      '[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3')) {
    const texts = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      for (const word of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
                                                        .map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture
def norwegian_phone(bokmal_browser):
    return bokmal_browser(PHONE)


def test_the_menu_closes_once_a_page_is_chosen(demo_db, demo_db_server, page, wait_idle):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tester = a_decision_to_test(demo_db)["tester"]
    page.set_viewport_size(PHONE)
    page.goto(f"{demo_db_server}/my_work?as={tester}")
    wait_idle(page)
    # A new session's first visit straight to a page may show Streamlit's "Page not found"
    # over the right page (a known fault, in the closing note of issue 24); not this test's.
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Decisions").click()
    expect(page.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    wait_idle(page)
    cards = page.locator('[class*="st-key-narrow_register_table"]')
    expect(cards.get_by_role("link").first).to_be_in_viewport()
    expect(page.locator('[class*="st-key-wide_register_table"]')).to_be_hidden()
    page.screenshot(path=str(SHOTS / "390-decisions.png"))
    page.set_viewport_size(DESKTOP)
    expect(page.locator('[class*="st-key-wide_register_table"]')).to_be_visible()
    expect(cards).to_be_hidden()
    page.screenshot(path=str(SHOTS / "1440-decisions.png"))


@pytest.mark.parametrize("page_path", ["readiness", "accessibility", "my_work"])
def test_titles_wrap_between_words_in_bokmal(
    demo_db, demo_db_server, norwegian_phone, wait_idle, page_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = norwegian_phone
    page.goto(f"{demo_db_server}/{page_path}?as={a_manager(demo_db)}")
    wait_idle(page)
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_test_id("stSkipToContent")).to_have_text("Hopp til hovedinnholdet")
    heading = page.locator('[data-testid="stMain"] h1').first
    expect(heading).to_be_visible()
    assert heading.evaluate("h => getComputedStyle(h).wordBreak") == "normal"
    assert page.evaluate(WORDS_BROKEN) == []
    page.screenshot(path=str(SHOTS / f"390-{page_path}-nb.png"))


def status_of(db_path, defect: str) -> str:
    conn = store.connect(db_path)
    try:
        return store.scalar(conn, "SELECT status FROM defects WHERE key = ?", (defect,))
    finally:
        conn.close()


def test_the_confirmation_of_a_change_is_in_view(demo_db_copy, start_app, page, wait_idle):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tester = a_decision_to_test(demo_db_copy)["tester"]
    page.set_viewport_size(PHONE)
    page.goto(f"{start_app(demo_db_copy)}/testing?as={tester}")
    wait_idle(page)
    page.get_by_role("tab", name="Defects").click()
    wait_idle(page)
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Change a defect")
    picker.locator("input").click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # a defect of the list
    wait_idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Save the defect")
    status = form.get_by_test_id("stSelectbox").filter(has_text="Status")
    status.locator("input").click()
    page.keyboard.type("deferred")
    page.keyboard.press("Enter")
    expect(status.locator("input")).to_have_value("deferred")
    form.get_by_role("button", name="Save the defect").click()
    saved = page.get_by_test_id("stAlert").filter(has_text=re.compile(r"Defect DEF-\d+ saved"))
    expect(saved).to_be_in_viewport()
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "390-defect-saved.png"))
    defect = re.search(r"DEF-\d+", saved.inner_text()).group(0)
    assert status_of(demo_db_copy, defect) == "deferred"
