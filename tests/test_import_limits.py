"""An import's limits hold before the work: too many rows and an xlsx that expands too far are
refused before their rows are read, and neither a dry run (the Data page's preview) nor the
check before a real import holds the write lock, so other people's changes go on meanwhile."""

from __future__ import annotations

import io
import sqlite3
import time
import zipfile

import pytest
from conftest import snapshot

from decisions import io as transfer_io
from decisions import services, settings, store
from decisions.io import formats
from decisions.model import SYSTEM_ACTOR
from decisions.store import decisions as decision_store

ORGANIZATIONS = "code,name,kind\n"


def organizations_csv(count: int) -> bytes:
    rows = "".join(f"O{n},Organisation {n},hospital\n" for n in range(count))
    return (ORGANIZATIONS + rows).encode()


def run(conn, name: str, data: bytes, **options):
    source = transfer_io.Source(name, data, "organizations")
    return transfer_io.import_sources(conn, [source], SYSTEM_ACTOR, **options)


def workbook(rows: int, *, dimension: bool = True) -> bytes:
    """An xlsx of `rows` organisations after the header, written as raw XML (a workbook like
    the 0.9 MB one that held 300,000 rows)."""
    cells = "".join(
        f'<row r="{n + 2}"><c r="A{n + 2}" t="inlineStr"><is><t>O{n}</t></is></c>'
        f'<c r="B{n + 2}" t="inlineStr"><is><t>Name</t></is></c>'
        f'<c r="C{n + 2}" t="inlineStr"><is><t>hospital</t></is></c></row>'
        for n in range(rows)
    )
    header = ('<row r="1">' + "".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
              for c, h in zip("ABC", ("code", "name", "kind"), strict=True)) + "</row>")  # fmt: skip
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="organizations" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns}>'
        + (f'<dimension ref="A1:C{rows + 1}"/>' if dimension else "")
        + f"<sheetData>{header}{cells}</sheetData></worksheet>",
    }  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_the_workbook_helper_makes_a_readable_workbook():
    table = formats.read_table("o.xlsx", workbook(3), max_bytes=10**6)
    assert table.header == ["code", "name", "kind"] and len(table.rows) == 3


def test_a_small_workbook_of_300000_rows_is_refused_before_its_rows_are_read(programme):
    data = workbook(300_000)
    assert len(data) < 5_000_000  # compressed; it expands fivefold
    started = time.perf_counter()
    result = run(programme, "o.xlsx", data)
    seconds = time.perf_counter() - started
    assert [e.message for e in result.errors] == [
        "the file has more than 100,000 rows (setting import.max_rows); split it"
    ]
    assert seconds < 3, f"{seconds:.1f} s: the rows were read"


@pytest.mark.parametrize("dimension", [True, False], ids=["dimension", "no-dimension"])
def test_the_row_limit_is_a_setting_for_xlsx_and_csv(programme, dimension):
    store.put_setting(programme, settings.IMPORT_MAX_ROWS.name, 5)
    before = snapshot(programme)
    for name, data in (
        ("o.xlsx", workbook(6, dimension=dimension)),
        ("o.csv", organizations_csv(6)),
    ):
        result = run(programme, name, data)
        assert [e.message for e in result.errors] == [
            "the file has more than 5 rows (setting import.max_rows); split it"
        ], name
    assert snapshot(programme) == before
    assert run(programme, "o.csv", organizations_csv(5)).written


def test_an_xlsx_that_expands_past_its_limit_is_refused_unread(programme):
    store.put_setting(programme, settings.IMPORT_MAX_BYTES.name, 40_000)
    data = workbook(2_000)
    assert len(data) < 40_000
    result = run(programme, "o.xlsx", data)
    assert len(result.errors) == 1
    assert "the workbook expands to" in result.errors[0].message
    assert "at most 160,000 (4 times the setting import.max_bytes)" in result.errors[0].message


def writer(db_path):
    """A second connection that must not wait: a write lock held elsewhere fails it at once."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("PRAGMA busy_timeout = 0")
    return other


def write_meanwhile(other, code: str) -> None:
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO organizations (code, name, kind) VALUES (?, 'Written meanwhile', 'hospital')",
        (code,),
    )
    other.execute("COMMIT")


def test_a_dry_run_never_holds_the_write_lock(programme, db_path):
    """A 19 MB dry run blocked every other writer for 26 s."""
    other = writer(db_path)
    written = []

    def progress(fraction, text):
        if not written:
            write_meanwhile(other, "MEANWHILE")  # raises 'database is locked' under the lock
            written.append(fraction)

    result = run(programme, "o.csv", organizations_csv(50), dry_run=True, progress=progress)
    assert written and result.ok and not result.written
    codes = {r["code"] for r in programme.execute("SELECT code FROM organizations")}
    assert "MEANWHILE" in codes and "O1" not in codes


def test_the_import_after_a_preview_checks_again_what_changed_meanwhile(programme, db_path):
    """The preview runs on a copy; the import checks every row against the database as it is
    by then: here a decision withdrawn after the preview refuses the import's new version."""
    from conftest import drive_decision

    key = drive_decision(programme, "decided")
    exported = transfer_io.export_kind(programme, "decisions").decode("utf-8-sig")
    changed = exported.replace("As decided.", "Decided otherwise.").encode()
    source = transfer_io.Source("decisions.csv", changed, "decisions")
    preview = transfer_io.import_sources(programme, [source], SYSTEM_ACTOR, dry_run=True)
    assert preview.ok and not preview.written
    other = store.connect(db_path)
    mona = decision_store.load_actor(other, "mona@hemit.no")
    services.set_manual_stage(other, mona, key, "withdraw", reason="meanwhile")
    other.close()
    result = transfer_io.import_sources(programme, [source], SYSTEM_ACTOR)
    assert not result.written, "the import wrote over a change made after its preview"
    assert any("withdrawn" in e.message for e in result.errors), result.error_lines()
    assert decision_store.get_decision(programme, key)["stage"] == "withdrawn"
