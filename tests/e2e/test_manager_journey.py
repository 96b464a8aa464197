"""Issue 12, the programme manager's journey in a real browser: land on the Overview, open
Readiness, drill into a criterion, download the PNG report for the steering committee, and
re-plan a wave after seeing what the new date does to the outlook. Clicks are counted;
screenshots at 1440x900 and 390x844 go to /tmp/shots/manager/."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_readiness_journey import choose_criterion

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/manager")
WAVE = "W3"  # re-planned: Helse Nord-Trøndelag, going live 11.02.2023


def a_manager(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT expert FROM expert_roles WHERE role = 'manager' ORDER BY expert LIMIT 1"
        ).fetchone()[0]


def go_live(db: Path, wave: str) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        date = conn.execute("SELECT go_live FROM waves WHERE code = ?", (wave,)).fetchone()[0]
        replans = conn.execute("SELECT count(*) FROM wave_replans WHERE wave = ?",
                               (wave,)).fetchone()[0]  # fmt: skip
    return date, replans


def assert_a_real_report(png: bytes) -> None:
    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width > 600 and image.height > 400
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # a chart and a table, not a blank page


def type_day(page, day, value: str) -> None:
    """Type the day into the date field's day segment (a click, then the digits). A rerun that
    redraws the field can take the focus between the click and the keys; then type again."""
    for _attempt in range(3):
        day.click()
        page.keyboard.type(value)
        try:
            expect(day).to_have_text(value, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(day).to_have_text(value)


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_a_manager_checks_readiness_reports_and_replans(
    demo_db_copy, start_app, page, wait_idle, width, height
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = start_app(demo_db_copy)
    manager = a_manager(demo_db_copy)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{base}/?as={manager}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()  # where a manager lands
    clicks = 0
    if width > 600:
        page.get_by_test_id("stSidebar").get_by_role("link", name="Readiness").click()
        clicks += 1
    else:  # on a phone the menu is one tap away; the address is the same
        page.goto(f"{base}/readiness?as={manager}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Go-live readiness")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"readiness-{width}.png"))

    choose_criterion(page, "C3 · ")  # click, type, Enter
    clicks += 1
    wait_idle(page)
    expect(page.get_by_role("heading", name="Behind C3: Proposals overdue")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Readiness report (PNG)").click()
    clicks += 1
    assert_a_real_report(Path(download.value.path()).read_bytes())

    before, replans = go_live(demo_db_copy, WAVE)
    page.goto(f"{base}/plan?as={manager}")
    wait_idle(page)
    wave_box = page.get_by_test_id("stSelectbox").filter(has_text="Wave").first
    wave_box.locator("input").click()
    wave_box.locator("input").fill("Helse Nord")
    expect(page.get_by_role("option").filter(has_text="Helse Nord").first).to_be_attached()
    wave_box.locator("input").press("Enter")  # the option the typing left
    clicks += 1
    wait_idle(page)
    date_box = page.get_by_test_id("stDateInput").filter(has_text="New go-live date")
    day = date_box.get_by_role("spinbutton", name=re.compile("^day"))
    # The field is drawn anew for the chosen wave, with its go-live date: typed into before,
    # the day went into the previous wave's field and was lost (CI, once in four runs).
    chosen = wave_box.get_by_role("combobox")
    expect(chosen).to_have_value(re.compile("Helse Nord"))
    go_live_day = re.search(r"go-live (\d{1,2}) ", chosen.input_value()).group(1)
    expect(day).to_have_text(go_live_day.zfill(2))
    type_day(page, day, "25")
    page.get_by_role("heading", name="Re-plan a wave").click()  # leaving the field sets it
    clicks += 2
    wait_idle(page)
    # the preview, before saving: the outlook at the new date beside today's
    expect(page.get_by_text("Go-live on 25 Feb 2023:")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"replan-preview-{width}.png"), full_page=True)
    page.get_by_test_id("stTextArea").filter(has_text="Reason").locator("textarea").fill(
        "The vendor's upgrade moves a month"
    )
    button = page.get_by_role("button", name="Re-plan")
    button.dblclick()  # a double click re-plans once
    clicks += 1
    wait_idle(page)
    expect(page.get_by_text("re-planned to").first).to_be_visible()
    after, replans_after = go_live(demo_db_copy, WAVE)
    assert before == "2023-02-11" and after == "2023-02-25"
    assert replans_after == replans + 1
    expect(date_box.locator("input[type=date]")).to_have_value("2023-02-25")
    page.screenshot(path=str(SHOTS / f"replanned-{width}.png"), full_page=True)
    assert clicks == (7 if width > 600 else 6)
