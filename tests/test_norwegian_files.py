"""Spreadsheets as Norwegian offices save them (issue 14): dates dd.mm.yyyy and decimal commas
read and said so, numbers a spreadsheet made into dates refused by name, the export for
Norwegian Excel coming back unchanged, text damaged by type-guessing kept, keys whose time a
spreadsheet rounded to the minute matched, and a readable xlsx."""

from __future__ import annotations

import io

import openpyxl
import pytest

from decisions import cli, demo, i18n, services, store
from decisions import io as transfer_io
from decisions.io import formats
from decisions.io.damage import spreadsheet_mangled
from decisions.io.kinds import number_made_date
from decisions.model import SYSTEM_ACTOR
from decisions.store import decisions as decision_store

FIELDS = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
          "organizations": ["STO"], "criticality": "high"}  # fmt: skip
CRITERION = (
    "wave;code;name;kind;metric;comparator;threshold\r\nW1;R7;Trained;reported;pct;>=;90\r\n"
)


def run_import(conn, kind, data: bytes, *, name=None, force=False, dry_run=False):
    source = transfer_io.Source(name or f"{kind}.csv", data, kind)
    return transfer_io.import_sources(conn, [source], SYSTEM_ACTOR, force=force, dry_run=dry_run)


@pytest.fixture
def reported(programme):
    """Wave W1 with a reported criterion R7."""
    result = run_import(programme, "criteria", CRITERION.encode("cp1252"))
    assert result.ok, result.error_lines()
    return programme


def measurements(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT date, value FROM measurements ORDER BY id")]


# Reading --------------------------------------------------------------------------------------


def test_norwegian_dates_and_decimal_commas_are_read_and_the_report_says_so(reported):
    text = ("wave;criterion;date;value;reported_by\r\n"
            "W1;R7;15.11.2021;92,5;mona@hemit.no\r\n"
            "W1;R7;16.11.2021 14:05;93,25;mona@hemit.no\r\n"
            "W1;R7;17.11.2021 08:01:09;1 234,5;mona@hemit.no\r\n")  # fmt: skip
    result = run_import(reported, "measurements", text.encode("cp1252"))
    assert result.ok, result.error_lines()
    assert measurements(reported) == [("2021-11-15", 92.5), ("2021-11-16T14:05:00", 93.25),
                                      ("2021-11-17T08:01:09", 1234.5)]  # fmt: skip
    assert "Read as a Norwegian spreadsheet: dates dd.mm.yyyy, decimal comma" in (
        result.files[0].notes
    )


def test_a_comma_file_does_not_take_norwegian_dates(reported):
    text = "wave,criterion,date,value,reported_by\r\nW1,R7,15.11.2021,92.5,mona@hemit.no\r\n"
    result = run_import(reported, "measurements", text.encode())
    assert result.error_lines() == [
        "measurements.csv:2:date: '15.11.2021' is not a date; expected YYYY-MM-DD"
    ]


def test_a_norwegian_date_that_does_not_exist_is_refused(reported):
    text = "wave;criterion;date;value;reported_by\r\nW1;R7;31.02.2021;1;mona@hemit.no\r\n"
    result = run_import(reported, "measurements", text.encode("cp1252"))
    assert result.error_lines() == ["measurements.csv:2:date: '31.02.2021' is not a date; "
                                    "expected DD.MM.YYYY or YYYY-MM-DD"]  # fmt: skip


@pytest.mark.parametrize(
    "cell, number",
    [("01.01.2026", "1,1"), ("11.09.2026", "11,9"), ("2026-01-01", "1,1"), ("11.sep", "11,9")],
)
def test_a_number_a_spreadsheet_made_into_a_date_is_refused_by_file_row_and_column(
    reported, cell, number
):
    text = ("wave;criterion;date;value;reported_by\r\n"
            "W1;R7;15.11.2021;92,5;mona@hemit.no\r\n"
            f"W1;R7;16.11.2021;{cell};mona@hemit.no\r\n")  # fmt: skip
    before = store.scalar(reported, "SELECT count(*) FROM measurements")
    result = run_import(reported, "measurements", text.encode("cp1252"), name="m.csv")
    assert result.error_lines() == [
        f"m.csv:3:value: {cell!r} is a date in a number column: a spreadsheet probably made it "
        f"of the number {number}; write the number and import again"
    ]
    assert store.scalar(reported, "SELECT count(*) FROM measurements") == before


def test_number_made_date_knows_only_dates_that_could_be_numbers():
    assert number_made_date("01.10.2026") == "1.10"
    assert number_made_date("15.13.2026") is None
    assert number_made_date("MED-0001") is None


# Export for Norwegian Excel --------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=0.05)
    conn.close()
    return path


def test_the_norwegian_export_comes_back_unchanged(demo_db, tmp_path, capsys):
    out = tmp_path / "nb"
    assert cli.main(["export", "all", "--out", str(out), "--norwegian", "--db", str(demo_db)]) == 0
    measured = (out / "measurements.csv").read_bytes()
    assert not measured.startswith(b"\xef\xbb\xbf")  # Windows-1252: every letter fits it
    header, first = measured.decode("cp1252").splitlines()[:2]
    assert header == "wave;criterion;date;value;reported_by;evidence_url"
    day, value = first.split(";")[2:4]
    assert day[2] == "." and day[5] == "." and "," in value or value.isdigit()
    capsys.readouterr()
    before = store.connect(demo_db)
    events = store.scalar(before, "SELECT count(*) FROM events")
    before.close()
    assert cli.main(["import", "all", str(out), "--db", str(demo_db)]) == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    assert "Read as a Norwegian spreadsheet" in printed
    assert " 0 new, 0 updated, 0 unchanged" not in printed
    assert all(", 0 new, 0 updated," in line for line in printed.splitlines() if ": 0 rej" in line)
    after = store.connect(demo_db)
    assert store.scalar(after, "SELECT count(*) FROM events") == events  # nothing changed
    after.close()
    assert cli.main(["check", "--db", str(demo_db)]) == 0


def test_norwegian_export_with_letters_beyond_windows_1252_is_utf8_with_a_bom(built_one, actor):
    edit(built_one, actor, {"question": "Hvorfor 漢字?"})
    data = transfer_io.export_kind(built_one, "decisions", norwegian=True)
    assert data.startswith(b"\xef\xbb\xbf")
    result = run_import(built_one, "decisions", data)
    assert result.ok and result.files[0].counts["unchanged"] == 1


def edit(conn, actor, fields: dict) -> None:
    services.edit_decision(conn, actor("hanne@stolav.no"), "MED-0001", fields)


@pytest.fixture
def built_one(programme, actor):
    services.create_decision(programme, actor("hanne@stolav.no"), FIELDS | {"title": "First"})
    return programme


# Text that type-guessing damages -------------------------------------------------------------


@pytest.mark.parametrize(
    "stored, given, mangled",
    [("1.10", "1.1", True), ("0042", "42", True), ("3/4", "2026-04-03", True),
     ("3/4", "03.04.2026", True), ("1,50", "1.5", True), ("First", "Second", False),
     ("1.10", "1.2", False), ("3/4", "3/5", False)],
)  # fmt: skip
def test_spreadsheet_mangled(stored, given, mangled):
    assert spreadsheet_mangled(stored, given) is mangled


def test_text_a_spreadsheet_turned_into_a_number_or_date_is_kept_with_a_warning(built_one, actor):
    edit(built_one, actor, {"title": "1.10", "question": "0042", "rationale": "3/4"})
    data = transfer_io.export_kind(built_one, "decisions")
    damaged = (data.replace(b",1.10,", b",1.1,").replace(b",0042,", b",42,")
               .replace(b",3/4,", b",2026-04-03,"))  # fmt: skip
    assert damaged != data
    events = store.scalar(built_one, "SELECT count(*) FROM events")
    result = run_import(built_one, "decisions", damaged)
    assert result.ok, result.error_lines()
    [row] = result.files[0].rows
    assert row.status == "unchanged"
    assert sorted(n.split(":")[0] for n in row.notes) == ["question", "rationale", "title"]
    record = decision_store.get_decision(built_one, "MED-0001")
    assert (record["title"], record["question"], record["rationale"]) == ("1.10", "0042", "3/4")
    assert store.scalar(built_one, "SELECT count(*) FROM events") == events


def test_the_xlsx_export_keeps_number_like_text_as_text(built_one, actor):
    edit(built_one, actor, {"title": "1.10", "question": "0042"})
    data = transfer_io.export_kind(built_one, "decisions", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    title = sheet.cell(row=2, column=header.index("title") + 1)
    question = sheet.cell(row=2, column=header.index("question") + 1)
    assert (title.value, title.data_type, title.number_format) == ("1.10", "s", "@")
    assert (question.value, question.data_type) == ("0042", "s")
    result = run_import(built_one, "decisions", data, name="decisions.xlsx")
    assert result.ok and result.files[0].counts["unchanged"] == 1


def test_the_xlsx_export_is_readable(built_one, actor):
    edit(built_one, actor, {"question": "=one\nsecond line", "needed_by": "2026-06-01"})
    data = transfer_io.export_kind(built_one, "decisions", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}2"
    assert sheet[1][0].font.bold
    question = sheet.cell(row=2, column=header.index("question") + 1)
    assert question.value == "=one\nsecond line" and question.data_type == "s"
    assert question.alignment.wrap_text
    assert sheet.column_dimensions["B"].width >= len("First") + 2
    dates = [sheet.cell(row=2, column=header.index(name) + 1) for name in
             ("decided_at", "needed_by", "version_started_at", "built_at", "ready_at")]  # fmt: skip
    filled = [cell for cell in dates if cell.value is not None]
    assert filled and all(c.is_date and c.number_format.startswith("dd.mm.yyyy") for c in filled)


def test_a_timestamp_at_midnight_comes_back_from_xlsx_as_a_timestamp():
    data = formats.write_xlsx(["date"], [["2020-10-14T00:00:00"], ["2020-10-15"]], "t",
                              dates=("date",))  # fmt: skip
    table = formats.read_table("t.xlsx", data, max_bytes=10**6)
    assert table.rows == [["2020-10-14T00:00:00"], ["2020-10-15"]]


# Keys with a full timestamp -------------------------------------------------------------------


@pytest.fixture
def measured(reported):
    text = "wave,criterion,date,value,reported_by\r\nW1,R7,2020-10-14T11:13:27,91,mona@hemit.no\r\n"
    assert run_import(reported, "measurements", text.encode()).ok
    return reported


@pytest.mark.parametrize("stamp", ["2020-10-14 11:13", "2020-10-14T11:13:00", "14.10.2020 11:13"])
def test_a_key_time_rounded_to_the_minute_matches_the_record(measured, stamp):
    sep = ";" if "." in stamp else ","
    text = sep.join(["wave", "criterion", "date", "value", "reported_by"]) + "\r\n"
    text += sep.join(["W1", "R7", stamp, "91", "mona@hemit.no"]) + "\r\n"
    result = run_import(measured, "measurements", text.encode())
    assert result.ok, result.error_lines()
    [row] = result.files[0].rows
    assert row.status == "unchanged"
    assert row.notes == ["matched the record of 2020-10-14T11:13:27: the file's time is rounded "
                         "to the minute"]  # fmt: skip
    assert measurements(measured) == [("2020-10-14T11:13:27", 91.0)]


@pytest.mark.parametrize("stamp", ["2020-10-14", "2020-10-14T11:13:40"])
def test_a_near_duplicate_is_refused_unless_forced(measured, stamp):
    text = f"wave,criterion,date,value,reported_by\r\nW1,R7,{stamp},91,mona@hemit.no\r\n"
    result = run_import(measured, "measurements", text.encode())
    assert result.error_lines() == [
        f"measurements.csv:2:date: {stamp} nearly duplicates the record of 2020-10-14T11:13:27 "
        "(a spreadsheet's rounding?); not added. Import with --force to add it as a new record"
    ]
    assert len(measurements(measured)) == 1
    forced = run_import(measured, "measurements", text.encode(), force=True)
    assert forced.ok and forced.files[0].counts["new"] == 1
    assert len(measurements(measured)) == 2


def test_the_demo_approvals_rounded_to_the_minute_add_nothing(demo_db, tmp_path, capsys):
    out = tmp_path / "x"
    assert cli.main(["export", "approvals", "--out", str(out), "--db", str(demo_db)]) == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    rounded = [lines[0]] + [
        ",".join(c[:16] if len(c) == 19 and c[10] == "T" else c for c in line.split(","))
        for line in lines[1:]
    ]
    assert rounded != lines
    out.write_text("\r\n".join(rounded) + "\r\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["import", "approvals", str(out), "--db", str(demo_db)]) == 0
    assert ": 0 new, 0 updated, " in capsys.readouterr().out


def test_the_messages_read_in_bokmal(reported, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    i18n.use("nb")
    try:
        text = (
            "wave;criterion;date;value;reported_by\r\nW1;R7;15.11.2021;01.01.2026;mona@hemit.no\r\n"
        )
        result = run_import(reported, "measurements", text.encode("cp1252"))
        assert "regneark" in result.files[0].notes[0]
        assert "tallet 1,1" in result.error_lines()[0]
    finally:
        i18n.use("en")


def test_the_data_page_offers_the_norwegian_export_for_csv(programme, db_path):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    page = Path(__file__).resolve().parents[1] / "pages" / "data.py"
    at = AppTest.from_file(str(page), default_timeout=60)
    conn = store.connect(db_path)
    try:
        at.session_state["_conn"] = conn
        at.session_state["_actor"] = decision_store.load_actor(programme, "mona@hemit.no")
        at.run()
        assert not at.exception
        box = at.checkbox(key="export_norwegian")
        assert box.label == "For Norwegian Excel" and box.value is False
        box.check().run()
        assert at.checkbox(key="export_norwegian").value is True
        at.radio(key="export_format").set_value("xlsx").run()
        assert not [c for c in at.checkbox if c.key == "export_norwegian"]
    finally:
        conn.close()


def test_header_cell_and_row_refusals_read_in_bokmal(reported, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    i18n.use("nb")
    try:
        text = ("wave;criterion;date;value;reported_by\r\n"
                "W1;R9;15.11.2021;1;mona@hemit.no\r\n"
                "W1;R7;15.11.2021;x;nobody\r\n"
                "W1;R7;16.11.2021;1;mona@hemit.no\r\n"
                "W1;R7;16.11.2021;2;mona@hemit.no\r\n")  # fmt: skip
        result = run_import(reported, "measurements", text.encode("cp1252"), name="m.csv")
        assert result.error_lines() == [
            "m.csv:2:criterion: innføringsbølge W1 har ikke kriteriet R9",
            "m.csv:3:value: 'x' er ikke et tall",
            "m.csv:3:reported_by: 'nobody' er ikke en e-postadresse",
            "m.csv:5:wave/criterion/date: duplisert nøkkel W1/R7/2021-11-16: også på rad 4",
        ]
        text = "wave;criterion;date;value;reported_by\r\nW1;R9;15.11.2021;1;mona@hemit.no\r\n"
        result = run_import(reported, "measurements", text.encode("cp1252"), name="m.csv")
        assert result.error_lines() == [
            "m.csv:2:criterion: innføringsbølge W1 har ikke kriteriet R9"
        ]
        result = run_import(reported, "measurements", b"wave;what\r\nW1;x\r\n", name="m.csv")
        assert "m.csv:1:what: ukjent kolonne for measurements" in result.error_lines()[0]
    finally:
        i18n.use("en")
