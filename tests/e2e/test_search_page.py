"""The register's search in a real browser: a single hit sits in a table of its own height (not
a 600 px empty grid), an empty result says what to try, and a search without æ, ø, å finds the
decisions and organisations spelled with them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots/demonb")


def someone(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT email FROM experts WHERE active = 1 ORDER BY email").fetchone()[
            0
        ]
    finally:
        conn.close()


def search(page, text: str, wait_idle) -> None:
    box = page.get_by_role("textbox", name="Search")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_search_page_sizes_results_and_forgives_missing_letters(
    demo_db_server, demo_db, page, sign_in_as, wait_idle
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(demo_db_server)
    sign_in_as(page, someone(demo_db))
    page.get_by_role("link", name="Decisions").click()
    wait_idle(page)

    search(page, "MED-0001", wait_idle)
    expect(page.get_by_text("1 decision found")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_have_count(1)
    box = grid.bounding_box()
    assert box["height"] < 120, box  # the header and one row, not 600 px of empty grid
    page.screenshot(path=str(SHOTS / "search-single-hit.png"), full_page=True)

    search(page, "zzzyyxq", wait_idle)
    expect(page.get_by_text("No decision matches.")).to_be_visible()
    expect(page.get_by_text("Try fewer words or the start of a word")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "search-empty.png"), full_page=True)

    search(page, "Aalesund", wait_idle)
    expect(page.get_by_text("Ålesund kommune")).to_be_visible()
    expect(page.get_by_text("decisions found")).to_be_visible()
    page.screenshot(path=str(SHOTS / "search-aalesund.png"), full_page=True)

    search(page, "soknad", wait_idle)
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_contain_text("søknad")
    page.screenshot(path=str(SHOTS / "search-soknad.png"), full_page=True)
