"""What a spreadsheet did to a file is found, never applied (issue 21): codes that lost their
leading zeros, texts made truth values, long numbers rounded to 15 digits or written in
scientific notation keep what is on record with a note, or are refused by FILE:ROW:COLUMN;
files are read as they are (an xlsx by its real rows, a CSV's empty last column ignored)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest

from decisions import i18n, services, store
from decisions import io as transfer_io
from decisions.io import formats
from decisions.model import SYSTEM_ACTOR
from decisions.store import decisions as decision_store

FIELDS = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
          "organizations": ["STO"], "criticality": "high"}  # fmt: skip
LONG = "12345678901234567890"


def run_import(conn, kind, data: bytes, name=None):
    source = transfer_io.Source(name or f"{kind}.csv", data, kind)
    return transfer_io.import_sources(conn, [source], SYSTEM_ACTOR)


def events(conn) -> int:
    return store.scalar(conn, "SELECT count(*) FROM events")


def organizations(conn) -> list[str]:
    return sorted(r[0] for r in conn.execute("SELECT code FROM organizations"))


@pytest.fixture
def oslo(programme):
    """Organisation 0301 (Oslo's municipality number) with an expert of its own."""
    text = "code;name;kind\r\n0301;Oslo kommune;municipality\r\n"
    assert run_import(programme, "organizations", text.encode("cp1252")).ok
    text = ("email;name;organization;domains;roles;allocation_pct\r\n"
            "siv@oslo.kommune.no;Siv;0301;MED;expert;40\r\n")  # fmt: skip
    assert run_import(programme, "experts", text.encode("cp1252")).ok
    return programme


@pytest.fixture
def decided(programme, actor):
    """MED-0001, decided, with texts a spreadsheet takes for other types."""
    fields = FIELDS | {"title": LONG, "question": "SANN", "rationale": "TRUE"}
    key = services.create_decision(programme, actor("hanne@stolav.no"), fields)
    services.decide(programme, actor("mona@hemit.no"), key, decision_text="As decided.",
                    decided_by=["hanne@stolav.no"])  # fmt: skip
    return programme


def decisions_xlsx(conn, **cells) -> bytes:
    """The decisions export as xlsx with `cells` of MED-0001 put as a spreadsheet types them."""
    book = openpyxl.load_workbook(io.BytesIO(transfer_io.export_kind(conn, "decisions", "xlsx")))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for column, value in cells.items():
        sheet.cell(row=2, column=header.index(column) + 1).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def decisions_csv(conn, **cells) -> bytes:
    """The Norwegian CSV export with `cells` of MED-0001 as a spreadsheet saves them."""
    text = transfer_io.export_kind(conn, "decisions", norwegian=True).decode("cp1252")
    header, first, *rest = text.split("\r\n")
    values = first.split(";")
    for column, value in cells.items():
        values[header.split(";").index(column)] = value
    return "\r\n".join([header, ";".join(values), *rest]).encode("cp1252")


def version(conn) -> int:
    return decision_store.get_decision(conn, "MED-0001")["version"]


# Codes that lost their leading zeros -------------------------------------------------------


def test_a_code_without_its_leading_zeros_is_the_code_on_record_not_a_new_one(oslo):
    before = events(oslo)
    organization = "code;name;kind\r\n301;Oslo kommune;municipality\r\n"
    expert = ("email;name;organization;domains;roles;allocation_pct\r\n"
              "siv@oslo.kommune.no;Siv;301;MED;expert;40\r\n")  # fmt: skip
    result = transfer_io.import_sources(oslo, [
        transfer_io.Source("organizations.csv", organization.encode("cp1252"), "organizations"),
        transfer_io.Source("experts.csv", expert.encode("cp1252"), "experts")], SYSTEM_ACTOR)  # fmt: skip
    assert result.ok, result.error_lines()
    assert organizations(oslo) == ["0301", "STO", "TRD"]
    assert store.scalar(oslo, "SELECT organization FROM experts WHERE email = ?",
                        ["siv@oslo.kommune.no"]) == "0301"  # fmt: skip
    assert events(oslo) == before
    [org_row], [expert_row] = (f.rows for f in result.files)
    assert org_row.status == expert_row.status == "unchanged"
    assert org_row.notes == ["code: 301 is the code 0301 without its leading zeros (a "
                             "spreadsheet read it as a number); matched 0301"]  # fmt: skip
    assert expert_row.notes == ["organization: 301 is the code 0301 without its leading zeros "
                                "(a spreadsheet read it as a number); matched 0301"]  # fmt: skip


def test_a_code_that_may_be_several_codes_on_record_is_refused_by_its_cell(oslo):
    text = "code;name;kind\r\n00301;Oslo bydel;municipality\r\n"
    assert run_import(oslo, "organizations", text.encode("cp1252")).ok
    before = store.scalar(oslo, "SELECT count(*) FROM events")
    text = ("code;name;kind\r\nSTO;St. Olavs hospital;hospital\r\n"
            "301;Oslo kommune;municipality\r\n")  # fmt: skip
    result = run_import(oslo, "organizations", text.encode("cp1252"), name="o.csv")
    assert result.error_lines() == [
        "o.csv:3:code: 301 may be any of the codes 00301, 0301 without its leading zeros (a "
        "spreadsheet read it as a number); write the code as text"
    ]
    assert organizations(oslo) == ["00301", "0301", "STO", "TRD"]
    assert events(oslo) == before


def test_a_code_read_as_a_number_in_an_xlsx_list_is_matched(oslo, actor):
    fields = FIELDS | {"title": "Oslo", "scope": "municipality", "forum": "MED-M",
                       "organizations": ["0301"]}  # fmt: skip
    services.create_decision(oslo, actor("hanne@stolav.no"), fields)
    result = run_import(oslo, "decisions", decisions_xlsx(oslo, organizations=301),
                        name="decisions.xlsx")  # fmt: skip
    assert result.ok, result.error_lines()
    assert result.files[0].counts["unchanged"] == 1
    assert decision_store.get_decision(oslo, "MED-0001")["organizations"] == ["0301"]


def test_a_text_of_digits_in_a_column_named_like_a_code_list_stays_as_it_is(programme, actor):
    fields = FIELDS | {"key": "0042", "title": "Kept"}
    services.create_decision(programme, actor("hanne@stolav.no"), fields)
    services.decide(programme, actor("mona@hemit.no"), "0042", decision_text="42",
                    decided_by=["hanne@stolav.no"])  # fmt: skip
    data = transfer_io.export_kind(programme, "decisions")
    result = run_import(programme, "decisions", data.replace(b"\r\n0042,", b"\r\n42,"))
    assert result.ok, result.error_lines()
    assert result.files[0].rows[0].notes == [
        "key: 42 is the code 0042 without its leading zeros (a spreadsheet read it as a number); "
        "matched 0042"
    ]
    assert decision_store.get_decision(programme, "0042")["decision"] == "42"


# Truth values in text columns --------------------------------------------------------------


@pytest.mark.parametrize("cells", [{"question": True, "rationale": True},
                                   {"question": "SANN", "rationale": "SANN"}],
                         ids=["xlsx-truth-values", "csv-sann"])  # fmt: skip
def test_a_text_a_spreadsheet_made_a_truth_value_keeps_the_stored_text(decided, cells):
    before = events(decided)
    if cells["question"] is True:
        data, name = decisions_xlsx(decided, **cells), "decisions.xlsx"
    else:
        data, name = decisions_csv(decided, **cells), "decisions.csv"
    result = run_import(decided, "decisions", data, name=name)
    assert result.ok, result.error_lines()
    [row] = result.files[0].rows
    assert row.status == "unchanged"
    shown = "TRUE" if name.endswith("xlsx") else "SANN"
    assert f"rationale: a spreadsheet made the text 'TRUE' a truth value ('{shown}'); kept " \
           "'TRUE'" in row.notes  # fmt: skip
    record = decision_store.get_decision(decided, "MED-0001")
    assert (record["question"], record["rationale"], record["version"]) == ("SANN", "TRUE", 1)
    assert events(decided) == before


def test_a_truth_value_where_the_stored_text_differs_is_refused_by_its_cell(decided):
    data = decisions_xlsx(decided, question=False, rationale="Plain words")
    result = run_import(decided, "decisions", data, name="decisions.xlsx")
    assert result.error_lines() == [
        "decisions.xlsx:2:question: a spreadsheet made this text a truth value (FALSE), and the "
        "text is lost; format the column as text, type the text again and import again"
    ]
    assert decision_store.get_decision(decided, "MED-0001")["question"] == "SANN"


def test_a_date_in_a_text_column_that_is_not_the_stored_text_made_a_date_is_refused(decided):
    data = decisions_xlsx(decided, rationale=dt.date(2026, 10, 1))
    result = run_import(decided, "decisions", data, name="decisions.xlsx")
    assert result.error_lines() == [
        "decisions.xlsx:2:rationale: a spreadsheet made this text a date (2026-10-01), and the "
        "text is lost; format the column as text, type the text again and import again"
    ]
    assert decision_store.get_decision(decided, "MED-0001")["rationale"] == "TRUE"


# Long numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, name",
    [("1,23456789012346E+019", "decisions.csv"), (1.2345678901234567e19, "decisions.xlsx")],
)
def test_a_long_number_a_spreadsheet_rounded_keeps_the_stored_digits(decided, title, name):
    before = events(decided)
    data = (decisions_csv(decided, title=title) if name.endswith("csv")
            else decisions_xlsx(decided, title=title))  # fmt: skip
    result = run_import(decided, "decisions", data, name=name)
    assert result.ok, result.error_lines()
    [row] = result.files[0].rows
    assert row.status == "unchanged"
    [note] = [n for n in row.notes if n.startswith("title:")]
    assert re.match(rf"title: a spreadsheet rounded the number '{LONG}' to 15 digits \('"
                    r"(1,23456789012346E\+019|123456789012345\d{5})'\); kept", note)  # fmt: skip
    assert decision_store.get_decision(decided, "MED-0001")["title"] == LONG
    assert events(decided) == before


@pytest.mark.parametrize("title, name", [("9,87654321098765E+019", "decisions.csv"),
                                         (9.876543210987654e19, "decisions.xlsx")])  # fmt: skip
def test_a_long_number_whose_digits_are_lost_is_refused_by_its_cell(decided, title, name):
    data = (decisions_csv(decided, title=title) if name.endswith("csv")
            else decisions_xlsx(decided, title=title))  # fmt: skip
    result = run_import(decided, "decisions", data, name=name)
    [error] = result.error_lines()
    assert error.startswith(f"{name}:2:title: '9")
    assert error.endswith("is a number a spreadsheet rounded to 15 digits, and the digits "
                          "beyond are lost; format the column as text, type it again and import "
                          "again")  # fmt: skip
    assert decision_store.get_decision(decided, "MED-0001")["title"] == LONG


def test_dates_and_decimals_in_text_columns_keep_the_stored_text(programme, actor):
    fields = FIELDS | {"title": "1.10", "question": "3/4", "rationale": "1e5"}
    services.create_decision(programme, actor("hanne@stolav.no"), fields)
    data = decisions_csv(programme, title="01.10.2026", question="03.04.2026",
                         rationale="1,00E+05")  # fmt: skip
    result = run_import(programme, "decisions", data)
    assert result.ok, result.error_lines()
    [row] = result.files[0].rows
    assert row.status == "unchanged"
    assert row.notes == [
        "title: a spreadsheet made the text '1.10' a date ('01.10.2026'); kept '1.10'",
        "question: a spreadsheet made the text '3/4' a date ('03.04.2026'); kept '3/4'",
        "rationale: a spreadsheet made the text '1e5' a number ('1,00E+05'); kept '1e5'",
    ]


# Files read as they are --------------------------------------------------------------------


def understated(data: bytes, dimension: str) -> bytes:
    """An xlsx whose sheet names a smaller <dimension> than its rows, as some programs write."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = content.replace(b"</sheetPr>", f'</sheetPr><dimension ref="{dimension}"'
                                          '/>'.encode())  # fmt: skip
            target.writestr(item, content)
    return out.getvalue()


def test_an_xlsx_is_read_by_its_rows_not_its_dimension(programme):
    rows = [[f"K{n}", f"Kommune {n}", "municipality"] for n in range(6)]
    data = understated(formats.write_xlsx(["code", "name", "kind"], rows, "o"), "A1:C2")
    assert b'<dimension ref="A1:C2"' in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml"
    )
    result = run_import(programme, "organizations", data, name="o.xlsx")
    assert result.ok, result.error_lines()
    assert result.files[0].counts["new"] == 6


def test_an_empty_last_column_of_a_csv_is_ignored_with_a_note(programme):
    text = "code,name,kind,\r\nK1,Kommune,municipality,\r\nK2,Kommune 2,municipality,\r\n"
    result = run_import(programme, "organizations", text.encode())
    assert result.ok, result.error_lines()
    assert result.files[0].counts["new"] == 2
    assert "1 empty column without a name at the end was ignored" in result.files[0].notes


def test_a_nameless_last_column_with_values_is_still_refused(programme):
    text = "code,name,kind,\r\nK1,Kommune,municipality,x\r\n"
    result = run_import(programme, "organizations", text.encode(), name="o.csv")
    assert result.error_lines() == ["o.csv:1:#4: a column without a name"]


def test_a_row_is_named_by_its_number_in_the_file_after_blank_rows(programme):
    text = "code,name,kind\r\nK1,Kommune,municipality\r\n,,\r\n\r\nK2,Kommune 2,nowhere\r\n"
    result = run_import(programme, "organizations", text.encode(), name="o.csv")
    assert result.error_lines() == [
        "o.csv:5:kind: 'nowhere' is not one of hospital, municipality, gp_office"
    ]


def test_the_damage_notes_and_refusals_read_in_bokmal(decided, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    i18n.use("nb")
    try:
        result = run_import(decided, "decisions", decisions_xlsx(decided, question=True),
                            name="decisions.xlsx")  # fmt: skip
        assert "regneark" in result.files[0].rows[0].notes[0]
        data = decisions_xlsx(decided, question=False, title=9.876543210987654e19)
        lines = run_import(decided, "decisions", data, name="decisions.xlsx").error_lines()
        assert [line.split(":")[2] for line in lines] == ["title", "question"]
        assert all("regneark" in line for line in lines)
    finally:
        i18n.use("en")


# Every CSV is safe ---------------------------------------------------------------------------

SPLIT = ["x;=1+1", "a,@SUM(A1)", "Dose; -1", "x;'=quoted", 'one;two,=HYPERLINK("http://e")']


@pytest.mark.parametrize("text", SPLIT)
def test_no_part_of_a_cell_split_at_either_separator_starts_a_formula(text):
    shown = formats.neutralise(text)
    assert not any(part.startswith(formats.FORMULA_STARTS) for part in re.split("[,;]", shown))
    assert formats.restore(shown) == text


@pytest.mark.parametrize("fmt", ["csv", "norwegian", "xlsx"])
def test_a_cell_split_at_the_other_separator_comes_back_as_it_was(programme, actor, fmt):
    fields = FIELDS | {"title": "x;=1+1", "rationale": "x;'=quoted, a,@SUM(A1)"}
    services.create_decision(programme, actor("hanne@stolav.no"), fields)
    data = transfer_io.export_kind(programme, "decisions", "xlsx" if fmt == "xlsx" else "csv",
                                   norwegian=fmt == "norwegian")  # fmt: skip
    if fmt != "xlsx":
        text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "cp1252")
        assert "x;=1+1" not in text and "x;'=1+1" in text
    result = run_import(
        programme, "decisions", data, name="decisions.xlsx" if fmt == "xlsx" else "decisions.csv"
    )
    assert result.ok, result.error_lines()
    assert result.files[0].counts["unchanged"] == 1
