"""The Data page in a real browser: a programme manager uploads a CSV, sees the preview of
what it would change, confirms, and the rows are in the database."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import expect

from decisions import services, store

pytestmark = pytest.mark.e2e

SHOTS = "/tmp/shots"
CSV = (
    "\ufeffcode,name,kind\r\n"
    "STO,St. Olavs hospital HF (Øya),hospital\r\n"
    "E2E1,Frøya kommune,municipality\r\n"
    "E2E2,Hitra kommune,municipality\r\n"
)


def a_manager(db_path) -> str:
    conn = store.connect(db_path, migrate=False)
    try:
        return store.scalar(
            conn,
            "SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email "
            "WHERE r.role = 'manager' AND e.active = 1 ORDER BY e.email LIMIT 1",
        )
    finally:
        conn.close()


def organization(db_path, code: str) -> str | None:
    conn = store.connect(db_path, migrate=False)
    try:
        return store.scalar(conn, "SELECT name FROM organizations WHERE code = ?", (code,))
    finally:
        conn.close()


def open_data_page(page, wait_idle) -> None:
    """Through the sidebar: a page load would start a new session, signed out."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Data").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Data")).to_be_visible()


def test_a_manager_uploads_a_csv_sees_the_preview_and_confirms(
    start_app, demo_db_copy, page, wait_idle, sign_in_as, tmp_path
):
    url = start_app(demo_db_copy)
    page.goto(url)
    sign_in_as(page, a_manager(demo_db_copy))
    open_data_page(page, wait_idle)
    page.screenshot(path=f"{SHOTS}/data-1-page.png", full_page=True)

    upload = tmp_path / "organizations.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="New")).to_contain_text("2")
    expect(metrics.filter(has_text="Updated")).to_contain_text("1")
    wait_idle(page)
    page.screenshot(path=f"{SHOTS}/data-2-preview.png", full_page=True)
    assert organization(demo_db_copy, "E2E1") is None  # the preview writes nothing

    page.get_by_role("button", name="Import 3 changed row(s)").click()
    expect(page.get_by_text("Imported organizations.csv: 2 new, 1 updated.")).to_be_visible()
    wait_idle(page)
    page.screenshot(path=f"{SHOTS}/data-3-imported.png", full_page=True)
    assert organization(demo_db_copy, "E2E1") == "Frøya kommune"
    assert organization(demo_db_copy, "STO") == "St. Olavs hospital HF (Øya)"


def test_a_bad_upload_shows_its_errors_and_no_import_button(
    start_app, demo_db_copy, page, wait_idle, sign_in_as, tmp_path
):
    url = start_app(demo_db_copy)
    page.goto(url)
    sign_in_as(page, a_manager(demo_db_copy))
    open_data_page(page, wait_idle)
    upload = tmp_path / "experts.csv"
    upload.write_text("email,name\nnot-an-email,X\n", encoding="utf-8")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    expect(page.get_by_text("nothing will be imported until they are fixed")).to_be_visible()
    wait_idle(page)
    page.screenshot(path=f"{SHOTS}/data-4-errors.png", full_page=True)
    expect(page.get_by_role("button", name="Import")).to_have_count(0)


def test_a_manager_downloads_an_export_and_a_backup(
    start_app, demo_db_copy, page, wait_idle, sign_in_as, tmp_path
):
    url = start_app(demo_db_copy)
    page.goto(url)
    sign_in_as(page, a_manager(demo_db_copy))
    open_data_page(page, wait_idle)
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download all.zip").click()
    path = tmp_path / "all.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert "decisions.csv" in archive.namelist()
        assert archive.read("organizations.csv").startswith(b"\xef\xbb\xbfcode,name,kind")
    page.screenshot(path=f"{SHOTS}/data-5-export.png", full_page=True)
    page.get_by_role("tab", name="Backup").click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download a backup").click()
    backup = tmp_path / "backup.db"
    download.value.save_as(backup)
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")
    copy = store.connect(backup, migrate=False)
    try:
        assert services.check(copy) == []
    finally:
        copy.close()
    page.screenshot(path=f"{SHOTS}/data-6-backup.png", full_page=True)
