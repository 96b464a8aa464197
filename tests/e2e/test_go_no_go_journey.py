"""The steering committee's go/no-go in the browser: a manager records it on the Readiness
page and sees it with its conditions; a double click on the button records it once, with one
event (the Plan page's table is covered by tests/test_go_no_go.py)."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.e2e.conftest import idle


def test_a_manager_records_a_go_with_conditions(page, demo_db_copy, start_app):
    conn = sqlite3.connect(demo_db_copy)
    manager = conn.execute("SELECT min(expert) FROM expert_roles WHERE role = 'manager'")
    manager = manager.fetchone()[0]
    wave = conn.execute("SELECT min(code) FROM waves").fetchone()[0]
    conn.close()
    url = start_app(demo_db_copy)
    page.goto(f"{url}/readiness?as={manager}&wave={wave}")
    idle(page)
    expect(page.get_by_text("No go/no-go decision recorded for this wave yet.")).to_be_visible()
    idle(page)  # the first run may still be drawing the page below that line
    page.get_by_text("Record the go/no-go decision").click()
    page.get_by_text("Go with conditions", exact=True).click()
    expect(page.get_by_role("radio", name="Go with conditions")).to_be_checked()
    conditions = page.get_by_label("Conditions (for a go with conditions)")
    conditions.fill("Lab orders approved")
    minutes = page.get_by_label("Minutes (required)")
    minutes.fill("Go once the lab orders are approved.")
    expect(conditions).to_have_value("Lab orders approved")
    expect(minutes).to_have_value("Go once the lab orders are approved.")
    page.get_by_role("button", name="Record the decision").dblclick()
    shown = page.get_by_test_id("stAlertContentInfo").filter(has_text="Go/no-go meeting")
    expect(shown).to_contain_text("Go with conditions")
    expect(shown).to_contain_text("Conditions: Lab orders approved")
    idle(page)
    conn = sqlite3.connect(demo_db_copy)
    assert conn.execute("SELECT count(*) FROM go_no_go").fetchone()[0] == 1
    logged = conn.execute("SELECT count(*) FROM events WHERE entity = 'go_no_go'").fetchone()[0]
    conn.close()
    assert logged == 1
