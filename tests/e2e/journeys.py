"""Each role's main journey, written once and driven two ways: with the mouse (`Mouse`: clicks
and typed fields, as the issues count them) or with the keyboard alone (`Keyboard`: Tab,
Shift+Tab, Enter, Space, arrow keys and typing; it also checks that each control it reaches
shows that it has the focus). tests/e2e/test_keyboard.py runs them by keyboard;
benchmarks/journey_counts.py runs them both ways and prints the counts.

Controls are found by their role and accessible name, not by layout, so the journeys keep
working when a screen is rearranged."""

from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

IDLE = (
    "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
    "[data-test-script-state='notRunning']"
)
TAB_LIMIT = 120  # Tabs to reach one control before the journey gives up: it is unreachable
GRID_HEADER_PX = 35
GRID_ROW_PX = 35

# The element the focus is on is `e`, or inside it (a widget's input within its wrapper).
HAS_FOCUS = "e => e === document.activeElement || e.contains(document.activeElement)"
# Whether `e` comes after the focused element in the page (then Tab, else Shift+Tab reaches it).
AFTER_FOCUS = """e => { const a = document.activeElement;
    if (!a || a === document.body) return true;
    return Boolean(a.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING); }"""
# What a person would call the control: its label or its text.
NAME = """e => (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
    || e.innerText || e.tagName).trim().replace(/\\s+/g, ' ').slice(0, 60)"""
# How the focus is drawn around a control: outlines, rings (box shadows) and borders of the
# control, three of its ancestors and its siblings' trees, less anything that holds the focus
# now and anything not drawn (a radio's input sits in a 1-pixel clipped box). A tint alone does
# not count: the menu marks the current page with the same tint, at about 1.1:1 against the
# sidebar. Taken before the Tab, kept on the page, and read again until it changes.
LOOK_BEFORE = """(e) => {
    const tiny = (y) => { const r = y.getBoundingClientRect(); return r.width < 4 || r.height < 4; };
    const shown = (x) => { if (tiny(x)) return false;
        for (let y = x; y; y = y.parentElement) { const s = getComputedStyle(y);
            if (s.opacity === '0' || s.visibility === 'hidden'
                || (s.overflow !== 'visible' && tiny(y))) return false; }
        return true; };
    const look = (x) => { const s = getComputedStyle(x);
        const outline = s.outlineStyle === 'none' || parseFloat(s.outlineWidth) === 0
            ? 'none' : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`;
        return [outline, s.boxShadow, s.borderTopColor, s.borderBottomColor].join('|'); };
    const near = [e];
    for (let x = e.parentElement, i = 0; x && i < 3; x = x.parentElement, i++) near.push(x);
    if (e.parentElement) near.push(...e.parentElement.querySelectorAll('*'));
    const focus = document.activeElement;
    const probe = near.filter((x) => !(focus && focus !== document.body && x.contains(focus)));
    window.__focusLook = () => JSON.stringify(probe.filter(shown).map(look));
    window.__focusBefore = window.__focusLook(); }"""
LOOK_CHANGED = "() => window.__focusLook() !== window.__focusBefore"
FOCUS_SHOWN_MS = 2_000  # a focus ring fades in; one that has not shown by then is missing
FOCUS_FRAMES = 10  # screenshots of a grid, which draws its focused cell on a later frame


def idle(page: Page, timeout: float = 30_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout)


@dataclass
class Counts:
    clicks: int = 0
    keys: int = 0  # key presses other than typing into a field
    fields: int = 0  # fields typed into
    unfocusable: list[str] = field(default_factory=list)  # controls showing no focus


class Mouse:
    """Drives a journey with the mouse, as a person at a desk would: clicks and typing."""

    name = "mouse"

    def __init__(self, page: Page):
        self.page = page
        self.counts = Counts()

    def press(self, control: Locator) -> None:
        idle(self.page)  # a rerun under way may redraw the control under the pointer
        control.click()
        self.counts.clicks += 1

    def expand(self, expander_title: str) -> None:
        self.press(self.page.locator("summary").filter(has_text=expander_title).first)

    def tick(self, control: Locator) -> None:
        idle(self.page)
        control.locator("xpath=ancestor::label[1]").click()  # the input itself is hidden
        self.counts.clicks += 1

    def type(self, box: Locator, text: str) -> None:
        idle(self.page)
        box.click()
        box.fill(text)
        self.counts.clicks += 1
        self.counts.fields += 1

    def choose(self, box: Locator, text: str) -> None:
        """Open the list, type to narrow it, pick the option."""
        idle(self.page)
        box.click()
        box.fill(text)
        self.page.get_by_role("option").filter(has_text=text).first.click()
        self.counts.clicks += 2
        self.counts.fields += 1

    def close_list(self, beside: Locator) -> None:
        beside.click()  # a click beside an open list closes it
        expect(self.page.get_by_role("listbox")).to_have_count(0)
        self.counts.clicks += 1

    def open_row(self, grid: Locator, row: int) -> None:
        box = grid.get_by_test_id("data-grid-canvas").bounding_box()
        self.page.mouse.click(box["x"] + 15, box["y"] + GRID_HEADER_PX + GRID_ROW_PX * (row + 0.5))
        self.counts.clicks += 1


class Keyboard:
    """Drives a journey by keyboard alone. Every control is reached by Tab (or Shift+Tab when
    it lies behind the focus) and must then show the focus; those that do not are listed in
    `counts.unfocusable`."""

    name = "keyboard"

    def __init__(self, page: Page):
        self.page = page
        self.counts = Counts()

    def key(self, name: str) -> None:
        self.page.keyboard.press(name)
        self.counts.keys += 1

    def reach(self, control: Locator, what: str = "", drawn: bool = True) -> None:
        """Tab to the control; fail when it cannot be reached; note it when it shows no focus
        (`drawn`: the page's styles draw it, not a canvas)."""
        control = control.first
        control.wait_for(state="attached")
        idle(self.page)
        control.evaluate(LOOK_BEFORE)
        self.skip_to_main(control)
        step = "Tab" if control.evaluate(AFTER_FOCUS) else "Shift+Tab"
        for _press in range(TAB_LIMIT):
            if control.evaluate(HAS_FOCUS):
                break
            self.key(step)
        else:
            raise AssertionError(f"{what or control} cannot be reached with {step}")
        if drawn and not self.shows_focus():
            self.counts.unfocusable.append(what or control.evaluate(NAME))

    def shows_focus(self) -> bool:
        try:
            self.page.wait_for_function(LOOK_CHANGED, timeout=FOCUS_SHOWN_MS)
        except PlaywrightTimeout:
            return False
        return True

    def skip_to_main(self, control: Locator) -> None:
        """From the top of a freshly opened page to a control in its main part: the skip link
        first (after a rerun the Tab goes on from where the focus was)."""
        nowhere = self.page.evaluate("() => document.activeElement === document.body")
        if nowhere and control.evaluate("e => Boolean(e.closest('[data-testid=stMain]'))"):
            self.key("Tab")
            skip = self.page.get_by_role("link", name="Skip to main content")
            if skip.evaluate(HAS_FOCUS):
                self.key("Enter")

    def press(self, control: Locator) -> None:
        self.reach(control)
        self.key("Enter")

    def expand(self, expander_title: str) -> None:
        self.reach(self.page.locator("summary").filter(has_text=expander_title), expander_title)
        self.key("Enter")

    def tick(self, control: Locator) -> None:
        """A radio option: reach its group, then Space or the arrow keys to the option."""
        group = control.locator("xpath=ancestor::*[@role='radiogroup'][1]")
        self.reach(group, f"{group.evaluate(NAME)}: {control.evaluate(NAME)}")
        for _press in range(8):
            if control.evaluate("e => e.checked") is False and control.evaluate(HAS_FOCUS):
                self.key("Space")
            if control.evaluate("e => e.checked"):
                return
            self.key("ArrowRight")
        raise AssertionError(f"{control} cannot be chosen with the arrow keys")

    def type(self, box: Locator, text: str) -> None:
        self.reach(box)
        self.page.keyboard.type(text)
        self.counts.fields += 1

    def choose(self, box: Locator, text: str) -> None:
        """Type into the list's box to narrow it, Enter takes the first option left."""
        self.reach(box)
        self.page.keyboard.type(text)
        expect(self.page.get_by_role("option").filter(has_text=text).first).to_be_visible()
        self.key("Enter")
        self.counts.fields += 1

    def close_list(self, beside: Locator) -> None:
        if self.page.get_by_role("listbox").count():
            self.key("Escape")
        expect(self.page.get_by_role("listbox")).to_have_count(0)

    def open_row(self, grid: Locator, row: int) -> None:
        """Into the grid (its top row's first cell lights up), down to the row, Shift+Space
        selects it (the grid's own key)."""
        canvas = grid.get_by_test_id("data-grid-canvas")
        unlit = canvas.screenshot()
        self.reach(canvas, "the table", drawn=False)
        if not any(canvas.screenshot() != unlit for _frame in range(FOCUS_FRAMES)):
            self.counts.unfocusable.append("the table's cells")
        for _row in range(row):
            self.key("ArrowDown")
        self.key("Shift+Space")


Driver = Mouse | Keyboard


# -- the programme's people and records -----------------------------------------------------------


def query(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def landed(page: Page, base: str, email: str, path: str = "") -> None:
    """Open the app signed in as `email` (the demo's `?as=`, as a notice's link does)."""
    page.goto(f"{base}/{path}?as={email}")
    idle(page)
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")).to_be_attached()
    idle(page)


NARROW = 768  # below this width the menu is folded away and opens over the page


def narrow(page: Page) -> bool:
    return page.viewport_size["width"] < NARROW


def open_menu(driver: Driver) -> None:
    if narrow(driver.page):
        driver.press(driver.page.get_by_role("button", name="Expand sidebar"))


def close_menu(driver: Driver) -> None:
    """On a phone the menu stays open over the page after a choice in it (issue 24, item 5)."""
    idle(driver.page)
    collapse = driver.page.get_by_role("button", name="Collapse sidebar")
    if narrow(driver.page) and collapse.is_visible():
        driver.press(collapse)


def go_to(driver: Driver, page_name: str) -> None:
    open_menu(driver)
    menu = driver.page.get_by_test_id("stSidebarNav")
    driver.press(menu.get_by_role("link", name=page_name, exact=True))
    idle(driver.page)
    close_menu(driver)


def open_top_of_queue(driver: Driver, tab: str) -> None:
    """Open the top row of My work's queue `tab`: its table's first row, or on a phone (where
    the queue is a list of cards) its first card's link."""
    panel = driver.page.get_by_role("tabpanel", name=re.compile(f"^{re.escape(tab)}"))
    if narrow(driver.page):
        driver.press(panel.locator('[class*="st-key-narrow_"]').get_by_role("link").first)
    else:
        driver.open_row(panel.get_by_test_id("stDataFrame"), 0)


# -- the journeys ---------------------------------------------------------------------------------


def an_expert_with_a_verdict_to_give(db: Path) -> tuple[str, str]:
    """An expert with a decision awaiting their verdict, and that decision (the top of their
    queue on My work)."""
    from decisions import store
    from decisions.store import queues

    experts = query(
        db,
        "SELECT DISTINCT e.email FROM experts e "
        "JOIN expert_roles r ON r.expert = e.email AND r.role = 'expert' "
        "JOIN expert_domains d ON d.expert = e.email "
        "JOIN decisions x ON x.domain = d.domain AND x.stage = 'demonstrated' "
        "WHERE e.active = 1 AND NOT EXISTS (SELECT 1 FROM expert_roles o "
        "WHERE o.expert = e.email AND o.role IN ('manager', 'admin')) ORDER BY e.email",
    )
    conn = store.connect(db)
    try:
        for (email,) in experts:
            queue = queues.approvals_queue(conn, email)
            if not queue.empty:
                return email, str(queue["key"].iloc[0])
    finally:
        conn.close()
    raise AssertionError("no expert has a decision awaiting their verdict")


def expert_gives_a_verdict(driver: Driver, base: str, db: Path) -> str:
    """From My work, the top decision awaiting the verdict: Approve, Give verdict."""
    page = driver.page
    email, key = an_expert_with_a_verdict_to_give(db)
    given = "SELECT count(*) FROM approvals WHERE decision = ? AND expert = ? AND verdict = ?"
    before = query(db, given, key, email, "approve")[0][0]
    landed(page, base, email)
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    open_top_of_queue(driver, "Awaiting your verdict")
    expect(page.get_by_role("heading", name=re.compile(f"^{key}"))).to_be_visible()
    expect(page.get_by_role("heading", name="Your verdict awaits")).to_be_visible()
    idle(page)
    driver.tick(page.get_by_role("radio", name="Approve"))
    driver.press(page.get_by_role("button", name="Give verdict"))
    expect(page.get_by_text("Your verdict is recorded")).to_be_visible()
    assert query(db, given, key, email, "approve")[0][0] == before + 1
    return key


def an_analyst_and_a_forum_member(db: Path) -> dict:
    """An analyst, a module and a hospital of their domain, and a member of the domain's
    level-1 hospital forum who records the forum's decision."""
    [row] = query(
        db,
        "SELECT e.email, d.domain, f.code, m.expert, x.name FROM experts e "
        "JOIN expert_roles r ON r.expert = e.email AND r.role = 'analyst' "
        "JOIN expert_domains d ON d.expert = e.email "
        "JOIN forum_domains fd ON fd.domain = d.domain "
        "JOIN forums f ON f.code = fd.forum AND f.level = 1 AND f.scope = 'hospital' "
        "JOIN forum_members m ON m.forum = f.code "
        "JOIN experts x ON x.email = m.expert AND x.active = 1 "
        "JOIN organizations o ON o.code = e.organization AND o.kind = 'hospital' "
        "WHERE e.active = 1 ORDER BY e.email, d.domain, f.code, m.expert LIMIT 1",
    )
    analyst, domain, forum, member, member_name = row
    [(module,)] = query(db, "SELECT name FROM modules WHERE domain = ? ORDER BY code LIMIT 1",
                        domain)  # fmt: skip
    [(hospital,)] = query(db, "SELECT name FROM organizations WHERE kind = 'hospital' "
                          "ORDER BY code LIMIT 1")  # fmt: skip
    return {"analyst": analyst, "forum": forum, "member": member, "member_name": member_name,
            "module": module, "hospital": hospital}  # fmt: skip


def analyst_proposes_and_the_forum_decides(driver: Driver, base: str, db: Path) -> str:
    """The analyst proposes a decision on New decision and opens it; the forum's member signs
    in (Act as someone else) and records the forum's decision on it."""
    page = driver.page
    case = an_analyst_and_a_forum_member(db)
    title = f"Strekkodeskanning ved sengen ({driver.name} {uuid.uuid4().hex[:6]})"
    landed(page, base, case["analyst"])
    go_to(driver, "New decision")
    expect(page.get_by_role("heading", name="New decision")).to_be_visible()
    driver.type(page.get_by_role("textbox", name="Title"), title)
    driver.choose(page.get_by_role("combobox", name="Module"), case["module"])
    driver.choose(page.get_by_role("combobox", name="Organisations"), case["hospital"])
    driver.close_list(page.get_by_text("You will own the proposal"))
    driver.press(page.get_by_role("button", name="Propose"))
    expect(page.get_by_text(re.compile(r"Decision .* is proposed to"))).to_be_visible()
    [(key,)] = query(db, "SELECT key FROM decisions WHERE title = ?", title)
    driver.press(page.get_by_role("link", name=f"Open {key}"))
    expect(page.get_by_role("heading", name=re.compile(f"^{key}"))).to_be_visible()

    open_menu(driver)
    driver.press(page.get_by_test_id("stSidebar").get_by_role("button", name="Act as someone else"))
    driver.choose(page.get_by_role("combobox", name="Person"), case["member_name"])
    expect(page.get_by_text(case["member_name"], exact=True).first).to_be_attached()
    close_menu(driver)
    driver.expand("Record the decision")
    decided = "Skann armbånd og legemiddel før administrering."
    driver.type(page.get_by_role("textbox", name="Decision", exact=True), decided)
    driver.press(page.get_by_role("button", name="Record the decision"))
    expect(page.get_by_text("The decision is recorded.")).to_be_visible()
    assert query(db, "SELECT stage, decision FROM decisions WHERE key = ?", key) == [
        ("decided", decided)
    ]
    return key


def a_tester_and_a_test_to_run(db: Path) -> tuple[str, str, str]:
    """A tester with that role alone and the top of their Tests to run: decision, test case."""
    from decisions import store
    from decisions.store import queues

    [(tester,)] = query(
        db,
        "SELECT e.email FROM experts e WHERE e.active = 1 AND EXISTS (SELECT 1 FROM "
        "expert_roles r WHERE r.expert = e.email AND r.role = 'tester') AND NOT EXISTS "
        "(SELECT 1 FROM expert_roles r WHERE r.expert = e.email AND r.role <> 'tester') "
        "AND NOT EXISTS (SELECT 1 FROM forum_members f WHERE f.expert = e.email) "
        "ORDER BY e.email LIMIT 1",
    )
    conn = store.connect(db)
    try:
        top = queues.cases_to_run(conn, tester=tester).iloc[0]
    finally:
        conn.close()
    return tester, str(top["key"]), str(top["test_case"])


def tester_logs_a_run(driver: Driver, base: str, db: Path) -> str:
    """From My work's Tests to run (the tester's own), the top row, which opens the run of its
    test case; passed, notes, Log the run."""
    page = driver.page
    tester, _decision, case = a_tester_and_a_test_to_run(db)
    runs = query(db, "SELECT count(*) FROM test_runs WHERE test_case = ?", case)[0][0]
    landed(page, base, tester)
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    open_top_of_queue(driver, "Tests to run")
    expect(page.get_by_text(re.compile(f"^Testing {case}"))).to_be_visible()
    idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Log the run")
    expect(form).to_be_visible()
    idle(page)
    driver.tick(form.get_by_role("radio", name="passed"))
    driver.type(form.get_by_role("textbox", name="Notes"), "Checked on the ward's test client")
    driver.press(form.get_by_role("button", name="Log the run"))
    expect(page.get_by_text(re.compile(f"of {case} logged: passed"))).to_be_visible()
    after = query(db, "SELECT count(*) FROM test_runs WHERE test_case = ? AND result = 'passed' "
                  "AND notes = 'Checked on the ward''s test client'", case)  # fmt: skip
    assert query(db, "SELECT count(*) FROM test_runs WHERE test_case = ?", case)[0][0] == runs + 1
    assert after[0][0] == 1
    return case


def manager_records_a_go_no_go(driver: Driver, base: str, db: Path) -> str:
    """From the Overview to Readiness; the go/no-go of the wave shown: go with conditions,
    conditions and minutes, Record the decision."""
    page = driver.page
    [(manager,)] = query(db, "SELECT min(expert) FROM expert_roles WHERE role = 'manager'")
    before = query(db, "SELECT count(*) FROM go_no_go")[0][0]
    minutes = f"Go once the lab orders are approved ({driver.name} {uuid.uuid4().hex[:6]})."
    landed(page, base, manager)
    go_to(driver, "Readiness")
    expect(page.get_by_role("heading", name="Go-live readiness")).to_be_visible()
    driver.expand("Record the go/no-go decision")
    form = page.get_by_test_id("stForm").filter(has_text="Minutes (required)")
    driver.tick(form.get_by_role("radio", name="Go with conditions"))
    driver.type(form.get_by_role("textbox", name="Conditions (for a go with conditions)"),
                "Lab orders approved")  # fmt: skip
    driver.type(form.get_by_role("textbox", name="Minutes (required)"), minutes)
    driver.press(form.get_by_role("button", name="Record the decision"))
    expect(page.get_by_text(re.compile("Go/no-go decision on .* recorded"))).to_be_visible()
    stored = query(db, "SELECT outcome, conditions FROM go_no_go WHERE minutes = ?", minutes)
    assert len(stored) == 1 and stored[0][1] == "Lab orders approved", stored
    assert query(db, "SELECT count(*) FROM go_no_go")[0][0] == before + 1
    return stored[0][0]


def admin_adds_a_person(driver: Driver, base: str, db: Path) -> str:
    """From the landing page to People and settings: email, name and organisation of a new
    person, Save the expert."""
    page = driver.page
    [(admin,)] = query(db, "SELECT min(expert) FROM expert_roles WHERE role = 'admin'")
    [(organisation,)] = query(db, "SELECT name FROM organizations ORDER BY code LIMIT 1")
    suffix = f"{driver.name}{uuid.uuid4().hex[:4]}"
    email, name = f"kari.tastatur.{suffix}@stolav.no", f"Kari Tastatur {suffix}"
    landed(page, base, admin)
    go_to(driver, "People and settings")
    form = page.get_by_test_id("stForm").filter(has_text="New person")
    expect(form).to_be_visible()
    driver.type(form.get_by_role("textbox", name="Email"), email)
    driver.type(form.get_by_role("textbox", name="Name"), name)
    driver.choose(form.get_by_role("combobox", name="Organisation"), organisation)
    driver.press(form.get_by_role("button", name="Save the expert"))
    expect(page.get_by_text(f"{email} saved.")).to_be_visible()
    assert query(db, "SELECT name, active FROM experts WHERE email = ?", email) == [(name, 1)]
    return email


JOURNEYS = {
    "expert": expert_gives_a_verdict,
    "analyst": analyst_proposes_and_the_forum_decides,
    "tester": tester_logs_a_run,
    "manager": manager_records_a_go_no_go,
    "admin": admin_adds_a_person,
}
