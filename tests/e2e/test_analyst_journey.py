"""Issue 12, the analyst's journey in a real browser, at desktop and phone widths: propose a
decision (a double click on Propose makes one), the forum decides it (through the services, as
the forum would), start and mark the build, follow the decision page's "Schedule the demo" to
the schedule form with the decision ticked, schedule it for today at a time already passed (a double click again makes one demo),
and record it as held from its entry. The clicks are counted; screenshots go to
/tmp/shots/analyst/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import services, store
from decisions.store import decisions as decision_store

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/analyst")
TITLE = "Strekkodeskanning ved sengen {width}"


def an_analyst_and_a_decider(db_path) -> dict:
    """An active analyst with a domain, the level-1 hospital forum of that domain and one of its
    members, who will decide the proposal."""
    conn = store.connect(db_path, migrate=False)
    try:
        row = store.one(
            conn,
            "SELECT e.email AS analyst, d.domain, f.code AS forum, m.expert AS member "
            "FROM experts e JOIN expert_roles r ON r.expert = e.email AND r.role = 'analyst' "
            "JOIN expert_domains d ON d.expert = e.email "
            "JOIN forum_domains fd ON fd.domain = d.domain "
            "JOIN forums f ON f.code = fd.forum AND f.level = 1 AND f.scope = 'hospital' "
            "JOIN forum_members m ON m.forum = f.code "
            "JOIN experts x ON x.email = m.expert AND x.active = 1 "
            "JOIN organizations o ON o.code = e.organization AND o.kind = 'hospital' "
            "WHERE e.active = 1 ORDER BY e.email, d.domain, f.code, m.expert LIMIT 1",
        )
        module = store.one(
            conn, "SELECT code, name FROM modules WHERE domain = ? ORDER BY code LIMIT 1",
            (row["domain"],),
        )  # fmt: skip
        hospital = store.one(
            conn, "SELECT code, name FROM organizations WHERE kind = 'hospital' ORDER BY code"
        )
    finally:
        conn.close()
    return row | {"module": module["code"], "module_name": module["name"],
                  "hospital": hospital["name"]}  # fmt: skip


def decisions_titled(db_path, title: str) -> list[str]:
    conn = store.connect(db_path, migrate=False)
    try:
        return [r["key"] for r in store.rows(conn, "SELECT key FROM decisions WHERE title = ?",
                                             (title,))]  # fmt: skip
    finally:
        conn.close()


def demos_showing(db_path, key: str) -> list[str]:
    conn = store.connect(db_path, migrate=False)
    try:
        return [r["demo"] for r in store.rows(conn, "SELECT demo FROM demo_decisions "
                                              "WHERE decision = ?", (key,))]  # fmt: skip
    finally:
        conn.close()


def decide(db_path, key: str, member: str) -> None:
    """The forum decides the proposal (its member records it), as at its meeting."""
    conn = store.connect(db_path, migrate=False)
    try:
        services.decide(conn, decision_store.load_actor(conn, member), key,
                        decision_text="Skann armbånd og legemiddel før administrering.",
                        decided_by=[member])  # fmt: skip
    finally:
        conn.close()


def choose(page, label: str, text: str) -> None:
    """Pick the option holding `text` in the selectbox labelled `label` (two clicks)."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


def shot(page, name: str, width: int) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_an_analyst_proposes_builds_schedules_and_records_the_demo(
    demo_db_copy, start_app, page, wait_idle, sign_in_as, width, height
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = an_analyst_and_a_decider(demo_db_copy)
    title = TITLE.format(width=width)
    base = start_app(demo_db_copy)
    page.goto(f"{base}/new_decision")
    sign_in_as(page, case["analyst"])  # in the sidebar, open at desktop width
    page.set_viewport_size({"width": width, "height": height})
    wait_idle(page)
    clicks = 0

    # Propose: the forum and the organisations follow the domain and the scope
    expect(page.get_by_role("heading", name="New decision")).to_be_visible()
    forum = page.get_by_test_id("stSelectbox").filter(has_text="Forum")
    # the hospital forum of the domain (not FBG, the joint decision group)
    expect(forum).to_match_aria_snapshot(
        f'- combobox "Forum": /{case["forum"]} .*/',
    )
    page.get_by_label("Title").fill(title)
    choose(page, "Module", case["module_name"])
    clicks += 2
    organisations = page.get_by_test_id("stMultiSelect").filter(has_text="Organisations")
    organisations.locator("input").click()
    organisations.locator("input").fill(case["hospital"])  # typing opens the list, filtered
    page.get_by_role("option").filter(has_text=case["hospital"]).first.click()
    # a tap beside the list closes it (the field shrinks: the buttons below move up)
    page.get_by_text("You will own the proposal").click()
    expect(page.get_by_role("listbox")).to_have_count(0)
    clicks += 3
    shot(page, "1-new-decision", width)
    page.get_by_role("button", name="Propose").dblclick()  # a double click
    clicks += 1
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Decision .* is proposed to"))).to_be_visible()
    made = decisions_titled(demo_db_copy, title)
    assert len(made) == 1, made  # one decision from the double click
    key = made[0]
    expect(page.get_by_label("Title")).to_have_value("")  # the form starts afresh
    shot(page, "2-proposed", width)

    # The forum decides it; the analyst opens it from the link and builds it
    decide(demo_db_copy, key, case["member"])
    page.get_by_role("link", name=f"Open {key}").click()
    clicks += 1
    wait_idle(page)
    for step in ("Start the build", "Mark as built"):
        page.get_by_test_id("stExpander").filter(has_text=step).first.locator("summary").click()
        page.get_by_role("button", name=step).click()
        clicks += 2
        wait_idle(page)
        expect(page.get_by_text(f"{step}: done")).to_be_visible()
    shot(page, "3-built", width)

    # The decision page's next step: the schedule form with the decision ticked
    page.get_by_role("link", name="Schedule the demo").click()
    clicks += 1
    wait_idle(page)
    expect(page.get_by_role("tab", name="Schedule a demo", selected=True)).to_be_visible()
    decisions = page.get_by_test_id("stMultiSelect").filter(has_text="Decisions it will show")
    expect(decisions).to_contain_text(key)
    shot(page, "4-schedule-from-link", width)
    # today, at midnight: a time already passed, so that it can be recorded at once
    page.get_by_role("spinbutton", name="day, Date").click()
    page.keyboard.type("15092022")  # day, month, year: the field moves on by itself
    page.get_by_role("spinbutton", name="hour, Starts at (Oslo time)").click()
    page.keyboard.type("0000")
    clicks += 2
    page.get_by_role("button", name="Schedule the demo").dblclick()  # a double click again
    clicks += 1
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"scheduled for 15 Sep 2022 00:00"))).to_be_visible()
    demo = re.search(r"Demo (DEMO-\d+) scheduled", page.get_by_test_id("stAlert").first
                     .inner_text()).group(1)  # fmt: skip
    assert demos_showing(demo_db_copy, key) == [demo]  # one demo from the double click
    # moved on to the new demo's entry on Upcoming
    expect(page.get_by_role("tab", name="Upcoming", selected=True)).to_be_visible()
    expect(page.get_by_text(f"{demo} started at 15 Sep 2022 00:00")).to_be_visible()
    shot(page, "5-scheduled", width)

    # Record it as held from its entry: the invited are ticked off as attending
    page.get_by_role("button", name="Record it as held").click()
    clicks += 1
    wait_idle(page)
    expect(page.get_by_role("tab", name="Record a held demo", selected=True)).to_be_visible()
    attended = page.get_by_test_id("stMultiSelect").filter(has_text="Experts who attended")
    attended.locator("input").click()
    attended.locator("input").fill(case["member"])
    page.get_by_role("option").filter(has_text=case["member"]).first.click()  # who came
    page.get_by_test_id("stForm").get_by_text("(domain").click()  # a tap beside it closes it
    expect(page.get_by_role("listbox")).to_have_count(0)
    clicks += 3
    shot(page, "6-record", width)
    page.get_by_role("button", name="Record the demo as held").click()
    clicks += 1
    wait_idle(page)
    expect(page.get_by_text(f"Now demonstrated: {key}")).to_be_visible()
    expect(page.get_by_role("tab", name="Past", selected=True)).to_be_visible()  # listed there
    shot(page, "7-recorded", width)
    conn = store.connect(demo_db_copy, migrate=False)
    try:
        assert decision_store.get_decision(conn, key)["stage"] == "demonstrated"
    finally:
        conn.close()
    print(f"analyst journey at {width}x{height}: {clicks} clicks")
    assert clicks == 20
