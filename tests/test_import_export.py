"""Import and export in the public formats: columns, encodings, formula neutralising,
Norwegian Excel CSV, xlsx safety, and imports that go through the workflow rules."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import openpyxl.xml
import pytest

from decisions import cli, evidence, services, store
from decisions import io as transfer_io
from decisions.io import formats
from decisions.io.kinds import KINDS, guess_kind
from decisions.model import SYSTEM_ACTOR, WorkflowError
from decisions.store import decisions as decision_store

DECISION_HEADER = "key,title,domain,module,forum,scope,organizations,criticality,stage"
FIELDS = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
          "organizations": ["STO"], "criticality": "high"}  # fmt: skip


def run_import(conn, kind, text, *, name=None, dry_run=False, data=None):
    name = name or f"{kind}.csv"
    source = transfer_io.Source(name, data if data is not None else text.encode(), kind)
    return transfer_io.import_sources(conn, [source], SYSTEM_ACTOR, dry_run=dry_run)


def read_csv(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def events(conn) -> int:
    return store.scalar(conn, "SELECT count(*) FROM events")


@pytest.fixture
def built(programme, actor):
    """MED-0001 built (decided by Hanne and Per), MED-0002 proposed."""
    hanne, ana = actor("hanne@stolav.no"), actor("ana@hemit.no")
    services.create_decision(programme, hanne, FIELDS | {"title": "First"})
    services.create_decision(programme, hanne, FIELDS | {"title": "Second"})
    services.decide(programme, hanne, "MED-0001", decision_text="Two nurses sign.",
                    decided_by=["hanne@stolav.no", "per@stolav.no"])  # fmt: skip
    services.set_manual_stage(programme, ana, "MED-0001", "start_build")
    services.set_manual_stage(programme, ana, "MED-0001", "mark_built")
    return programme


# Export -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_export_writes_the_import_header_with_a_bom(built, kind):
    data = transfer_io.export_kind(built, kind)
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].decode().splitlines()[0].split(",")
    assert header == KINDS[kind].header


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_xlsx_export_has_the_same_columns_on_the_first_sheet(built, kind):
    book = openpyxl.load_workbook(io.BytesIO(transfer_io.export_kind(built, kind, "xlsx")))
    first = next(book.worksheets[0].iter_rows(values_only=True))
    assert list(first) == KINDS[kind].header


def test_export_to_stdout_and_to_a_file(built, db_path, tmp_path, capsysbinary):
    assert cli.main(["export", "decisions", "--db", str(db_path)]) == 0
    rows = read_csv(capsysbinary.readouterr().out)
    assert [r["key"] for r in rows] == ["MED-0001", "MED-0002"]
    assert rows[0]["decided_by"] == "hanne@stolav.no;per@stolav.no"
    assert rows[0]["stage"] == "built" and rows[0]["version"] == "1"
    out = tmp_path / "d.xlsx"
    assert cli.main(["export", "decisions", "--format", "xlsx", "--out", str(out),
                     "--db", str(db_path)]) == 0  # fmt: skip
    assert out.read_bytes().startswith(b"PK")


def test_export_all_writes_every_kind(built, db_path, tmp_path):
    assert cli.main(["export", "all", "--out", str(tmp_path / "x"), "--db", str(db_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(f"{k}.csv" for k in KINDS)


@pytest.mark.parametrize("kind", ["decisions", "all"])
def test_export_refuses_to_write_through_a_symbolic_link(built, db_path, tmp_path, capsys, kind):
    """A link planted where the export goes would make it overwrite the link's target."""
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    out = tmp_path / "out"
    if kind == "all":
        out.mkdir()
        (out / "organizations.csv").symlink_to(target)
    else:
        out.symlink_to(target)
    assert cli.main(["export", kind, "--out", str(out), "--db", str(db_path)]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "precious"
    if kind == "all":
        assert sorted(p.name for p in out.iterdir()) == ["organizations.csv"]


# Formulas, Unicode and line breaks ------------------------------------------------------------

DANGEROUS = ["=HYPERLINK(\"http://evil\")", "+47 73 86 80 00", "-1", "@SUM(A1)", "\tTab",
             "\rReturn", "'=quoted", "''+twice", "'plain quote"]  # fmt: skip


@pytest.mark.parametrize("text", DANGEROUS)
def test_neutralise_and_restore_are_inverse(text):
    shown = formats.neutralise(text)
    assert not shown.startswith(formats.FORMULA_STARTS)
    assert formats.restore(shown) == text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("text", DANGEROUS[:6])
def test_formulas_are_exported_as_text_and_imported_back(built, fmt, text):
    decision_store.update_decision(built, "MED-0002", {"question": text})
    data = transfer_io.export_kind(built, "decisions", fmt)
    if fmt == "csv":
        assert read_csv(data)[1]["question"] == "'" + text
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        header = [c.value for c in sheet[1]]
        cell = sheet.cell(row=3, column=header.index("question") + 1)
        # typed as text, so no formula: the guard only before leading whitespace
        guard = "'" if text[0] in "\t\r" else ""
        assert cell.data_type == "s" and cell.value == guard + text.replace("\r", "\n")
    decision_store.update_decision(built, "MED-0002", {"question": "changed"})
    result = run_import(built, "decisions", "", name=f"decisions.{fmt}", data=data)
    assert result.ok, result.error_lines()
    # XML turns a carriage return into a line feed; CSV keeps it
    expected = text.replace("\r", "\n") if fmt == "xlsx" else text
    assert decision_store.get_decision(built, "MED-0002")["question"] == expected


UNICODE = "Blodtrykk: æøå ÆØÅ – ü ñ 漢字 🙂\nsecond line\r\nthird line"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_unicode_and_line_breaks_survive_the_round_trip(built, fmt):
    decision_store.update_decision(built, "MED-0002", {"question": UNICODE, "title": "Grå stær"})
    data = transfer_io.export_kind(built, "decisions", fmt)
    decision_store.update_decision(built, "MED-0002", {"question": "x", "title": "y"})
    result = run_import(built, "decisions", "", name=f"decisions.{fmt}", data=data)
    assert result.ok, result.error_lines()
    decision = decision_store.get_decision(built, "MED-0002")
    expected = UNICODE if fmt == "csv" else UNICODE.replace("\r\n", "\n")
    assert (decision["question"], decision["title"]) == (expected, "Grå stær")


# Reading what spreadsheets write --------------------------------------------------------------


def test_norwegian_excel_csv_is_detected_and_read(programme):
    text = (
        "code;name;kind\r\nAFJ;Åfjord kommune;municipality\r\nORL;Ørland kommune;municipality\r\n"
    )
    result = run_import(programme, "organizations", "", data=text.encode("cp1252"))
    assert result.ok, result.error_lines()
    report = result.files[0]
    assert report.detected == "CSV, Windows-1252 (Excel), semicolon-separated"
    assert any("Norwegian" in n for n in report.notes)
    names = {r["name"] for r in store.rows(programme, "SELECT name FROM organizations")}
    assert {"Åfjord kommune", "Ørland kommune"} <= names


def test_a_decimal_comma_is_read_in_a_semicolon_file(programme):
    text = ("wave;code;name;kind;metric;comparator;threshold\r\n"
            "W1;R7;Trained;reported;end_users_trained_pct;>=;92,5\r\n")  # fmt: skip
    result = run_import(programme, "criteria", "", data=text.encode("cp1252"))
    assert result.ok, result.error_lines()
    assert store.scalar(programme, "SELECT threshold FROM criteria WHERE code = 'R7'") == 92.5


@pytest.mark.parametrize(
    "data, detected",
    [
        (b"\xef\xbb\xbfcode,name\r\nX,Y\r\n", "CSV, UTF-8 with BOM, comma-separated"),
        (b"code,name\nX,Y\n", "CSV, UTF-8, comma-separated"),
        (b"code\tname\nX\tY\n", "CSV, UTF-8, tab-separated"),
    ],
)
def test_encodings_and_separators_are_detected(data, detected):
    table = formats.read_table("x.csv", data, max_bytes=10**6)
    assert table.detected == detected and table.rows == [["X", "Y"]]


def test_openpyxl_parses_xml_through_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


def test_a_workbook_with_xml_entities_is_refused():
    book = openpyxl.Workbook()
    book.active.append(["code", "name", "kind"])
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w") as bomb,
    ):
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                doctype = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                data = b'<?xml version="1.0"?>' + doctype + data
            bomb.writestr(name, data)
    with pytest.raises(formats.FileRejected, match="XML entities"):
        formats.read_table("bomb.xlsx", out.getvalue(), max_bytes=10**6)


def test_a_workbook_with_macros_is_read_without_them():
    book = openpyxl.Workbook()
    book.active.append(["code", "name", "kind"])
    book.active.append(["STO", "St. Olavs", "hospital"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"Attribute VB_Name = evil")
    table = formats.read_table("x.xlsx", buffer.getvalue(), max_bytes=10**6)
    assert table.rows == [["STO", "St. Olavs", "hospital"]]
    assert "macros in the workbook were ignored" in table.notes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_kind_is_guessed_from_the_header(kind):
    assert guess_kind(KINDS[kind].header) == kind
    assert guess_kind(KINDS[kind].required) == kind


# Through the workflow -------------------------------------------------------------------------


def test_a_new_decision_gets_the_events_of_its_manual_path(programme):
    text = (DECISION_HEADER + ",decision,decided_by\n"
            "MED-0100,Imported,MED,Medication administration,MED-H,hospital,STO,high,built,"
            "Sign twice.,hanne@stolav.no\n")  # fmt: skip
    result = run_import(programme, "decisions", text)
    assert result.ok, result.error_lines()
    assert result.files[0].counts["new"] == 1
    trail = [(e["action"], e["from_value"], e["to_value"])
             for e in store.events_for(programme, "decision", "MED-0100")]  # fmt: skip
    assert trail == [("created", None, "proposed"), ("stage", "proposed", "decided"),
                     ("stage", "decided", "in_build"), ("stage", "in_build", "built")]  # fmt: skip
    decision = decision_store.get_decision(programme, "MED-0100")
    assert decision["module"] == "MED-ADM"  # given by name, stored by code
    assert decision_store.decision_versions(programme, "MED-0100")[0]["version"] == 1


def test_a_changed_decision_text_makes_a_new_version_and_older_evidence_suspect(built, actor):
    evidence.save_demo(built, actor("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=["MED-0001"], presenter="ana@hemit.no",
                       attendees=["hanne@stolav.no"])  # fmt: skip
    assert decision_store.get_decision(built, "MED-0001")["stage"] == "demonstrated"
    rows = read_csv(transfer_io.export_kind(built, "decisions"))
    rows[0]["decision"] = "Two nurses sign, and the pharmacist checks."
    rows[0]["stage"] = "decided"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    result = run_import(built, "decisions", out.getvalue())
    assert result.ok, result.error_lines()
    decision = decision_store.get_decision(built, "MED-0001")
    assert (decision["version"], decision["stage"]) == (2, "decided")
    assert decision["version_started_at"] is not None
    actions = [e["action"] for e in store.events_for(built, "decision", "MED-0001")][-2:]
    assert actions == ["revised", "stage"]
    assert services.check(built) == []


def test_a_manual_stage_reachable_from_the_current_one_is_taken(built):
    text = (
        DECISION_HEADER
        + ",decision,decided_by\n"
        + ("MED-0002,Second,MED,MED-ADM,MED-H,hospital,STO,high,in_build,Do it.,per@stolav.no\n")
    )
    result = run_import(built, "decisions", text)
    assert result.ok, result.error_lines()
    assert result.files[0].counts == {"new": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    assert decision_store.get_decision(built, "MED-0002")["stage"] == "in_build"


def test_ready_is_taken_when_the_evidence_of_the_same_import_says_tested(built, tmp_path):
    folder = tmp_path / "all"
    folder.mkdir()
    (folder / "demos.csv").write_text(
        "key,date,module,decisions,presenter,attendees\n"
        "DEMO-0100,2022-09-01,MED-ADM,MED-0001,ana@hemit.no,hanne@stolav.no\n"
    )
    (folder / "approvals.csv").write_text(
        "decision,expert,verdict,date\nMED-0001,hanne@stolav.no,approve,2022-09-02\n"
        "MED-0001,per@stolav.no,approve,2022-09-02\n"
    )
    (folder / "test-cases.csv").write_text(
        "key,title,kind,decisions\nTC-0100,Sign twice,application,MED-0001\n"
    )
    (folder / "test-runs.csv").write_text(
        "test_case,date,result,tester\nTC-0100,2022-09-03,passed,tess@hemit.no\n"
    )
    rows = read_csv(transfer_io.export_kind(built, "decisions"))
    rows[0]["stage"] = "ready"
    with (folder / "decisions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    built_at = decision_store.get_decision(built, "MED-0001")["built_at"]
    # the round began today on the programme clock; evidence before it would not count
    assert built_at.startswith("2022-09-15")
    result = transfer_io.import_sources(built, transfer_io.folder_sources(folder), SYSTEM_ACTOR)
    assert not result.ok
    assert any("no demo with an attending expert on or after" in str(e) for e in result.errors)
    now = services.now(built)  # in the round, and not later than now
    for name in ("demos.csv", "approvals.csv", "test-runs.csv"):
        path = folder / name
        path.write_text(re.sub(r"2022-09-0\d", now, path.read_text()))
    result = transfer_io.import_sources(built, transfer_io.folder_sources(folder), SYSTEM_ACTOR)
    assert result.ok, result.error_lines()
    assert decision_store.get_decision(built, "MED-0001")["stage"] == "ready"
    stages = [e["to_value"] for e in store.events_for(built, "decision", "MED-0001")
              if e["action"] == "stage"]  # fmt: skip
    assert stages[-4:] == ["demonstrated", "approved", "tested", "ready"]
    assert services.check(built) == []


def test_a_dry_run_reports_and_writes_nothing(built, db_path, tmp_path, capsys):
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\nSTO,St. Olavs hospital HF,hospital\nNEW,New,hospital\n")
    before = list(built.iterdump())
    assert cli.main(["import", "organizations", str(path), "--db", str(db_path),
                     "--dry-run"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "1 new, 1 updated, 0 unchanged, 0 rejected" in out and "nothing written" in out
    assert list(built.iterdump()) == before


def test_an_approval_on_record_keeps_its_verdict(built, actor):
    evidence.save_demo(built, actor("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=["MED-0001"], presenter="ana@hemit.no",
                       attendees=["hanne@stolav.no"])  # fmt: skip
    evidence.record_verdict(built, actor("hanne@stolav.no"), "MED-0001", "approve")
    rows = read_csv(transfer_io.export_kind(built, "approvals"))
    text = "decision,expert,verdict,date,comment\n" + (
        f"MED-0001,hanne@stolav.no,changes_requested,{rows[0]['date']},Wrong dose\n"
    )
    result = run_import(built, "approvals", text)
    assert [str(e).split(": ", 1)[1] for e in result.errors] == [
        f"hanne@stolav.no recorded approve on {rows[0]['date']}; a verdict on record does not "
        "change, record a new one with its own date"
    ]


def test_a_replan_with_a_reason_is_recorded(programme):
    text = "code,name,go_live,organizations,replan_reason\n" + (
        "W1,Wave 1,2023-05-01,STO;TRD,St. Olavs postponed\n"
    )
    assert run_import(programme, "waves", text).ok
    replan = store.one(programme, "SELECT * FROM wave_replans")
    assert (replan["old_go_live"], replan["new_go_live"]) == ("2022-11-12", "2023-05-01")
    assert run_import(programme, "waves", text).files[0].counts["unchanged"] == 1


def test_experts_without_forums_get_the_level_1_forums_of_their_domains_on_their_side(programme):
    text = "email,name,organization,domains,roles,allocation_pct\n" + (
        "new@stolav.no,New,STO,MED,expert,40\nana2@hemit.no,Ana,STO,MED,analyst,40\n"
    )
    assert run_import(programme, "experts", text).ok
    forums = store.rows(programme, "SELECT * FROM forum_members WHERE expert LIKE '%2@%' "
                        "OR expert = 'new@stolav.no' ORDER BY forum")  # fmt: skip
    # a hospital expert: MED-H, not MED-M; an analyst sits in no forum
    assert [(f["expert"], f["forum"]) for f in forums] == [("new@stolav.no", "MED-H")]


def test_importing_a_file_twice_adds_no_events(built):
    data = transfer_io.export_kind(built, "decisions")
    first = events(built)
    result = run_import(built, "decisions", "", data=data)
    assert result.files[0].counts["unchanged"] == 2
    assert events(built) == first


@pytest.mark.parametrize("email", ["hanne@stolav.no", "ana@hemit.no", "vera@hemit.no"])
def test_only_managers_and_admins_import(programme, actor, email):
    source = transfer_io.Source("organizations.csv", b"code,name,kind\nX,Y,hospital\n")
    with pytest.raises(WorkflowError, match="needs the role manager or admin"):
        transfer_io.import_sources(programme, [source], actor(email))


def test_absent_optional_columns_keep_what_is_on_record(programme):
    with store.transaction(programme):
        programme.execute("UPDATE experts SET active = 0 WHERE email = 'kari@stolav.no'")
        programme.execute("INSERT INTO forum_members VALUES ('FBG', 'kari@stolav.no')")
    text = "email,name,organization,domains,roles,allocation_pct\n" + (
        "kari@stolav.no,Kari Nordmann,STO,MED,expert,50\n"
    )
    result = run_import(programme, "experts", text)
    assert result.ok and result.files[0].rows[0].changes == ["name"]
    forums = [r[0] for r in programme.execute(
        "SELECT forum FROM forum_members WHERE expert = 'kari@stolav.no' ORDER BY 1")]  # fmt: skip
    assert forums == ["FBG", "MED-H"]
    assert store.scalar(programme, "SELECT active FROM experts WHERE email = 'kari@stolav.no'") == 0


def test_a_table_a_page_offers_downloads_as_the_public_formats_write_csv():
    """The Readiness page's criteria table: a BOM (so Excel reads 'opplært'), a criterion named
    like a formula shown as text, an empty value empty."""
    import pandas as pd

    table = pd.DataFrame({"criterion": ['=HYPERLINK("http://127.0.0.1:9/")', "Opplært"],
                          "value": [34.15, float("nan")], "target": [">= 100", ">= 90"]})  # fmt: skip
    data = transfer_io.table_csv(table)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["criterion", "value", "target"],
                    ["'=HYPERLINK(\"http://127.0.0.1:9/\")", "34.15", ">= 100"],
                    ["Opplært", "", ">= 90"]]  # fmt: skip
