"""Every CSV the app offers is safe (issue 21), in a real browser: a table's toolbar has no
"Download as CSV" (it would write user text with no formula guard), and the register offers
its own guarded download instead."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def an_english_manager(db: Path) -> str:
    """A manager who has not chosen bokmål: the server is shared, and other tests switch their
    manager's language (it is kept per person)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT expert FROM expert_roles WHERE role = 'manager' AND expert NOT IN "
            "(SELECT person FROM person_languages WHERE language = 'nb') ORDER BY expert DESC "
            "LIMIT 1"
        ).fetchone()[0]


def test_a_table_toolbar_offers_no_csv_and_the_register_its_own(
    demo_db_server, demo_db, page, sign_in_as, wait_idle
):
    page.goto(demo_db_server)
    sign_in_as(page, an_english_manager(demo_db))
    page.get_by_role("link", name="Decisions").click()
    wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar.get_by_role("button", name="Search")).to_be_visible()  # the toolbar is shown
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
    wait_idle(page)  # a click while the page is drawn anew can be lost (CI, once)
    button = page.get_by_role("button", name="Download the list (CSV)")
    expect(button).to_be_enabled()
    with page.expect_download() as download:
        button.click()
    data = Path(download.value.path()).read_bytes()
    header, first = data.decode("utf-8-sig").splitlines()[:2]  # an English reader: commas
    assert header.startswith("key,Title,Stage,") and first.count(",") >= header.count(",")
