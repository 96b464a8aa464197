"""The bad-file corpus: every file is rejected with the right FILE:ROW:COLUMN error, exit 1,
and the database stays exactly as it was. The CSV files live in tests/data/bad/; each one that
is a readable table is also tried as an xlsx workbook with the same cells."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from decisions import cli, evidence, services, store

BAD = Path(__file__).parent / "data" / "bad"

# file: (KIND, expected "ROW:COLUMN: text" after the file name)
CASES = {
    "missing_header_column.csv": ("organizations", "1:kind: required column kind is missing"),
    "unknown_column.csv": ("organizations", "1:colour: unknown column for organizations"),
    "duplicate_column.csv": ("organizations", "1:name: the column appears twice"),
    "empty.csv": ("organizations", "0:: the file is empty"),
    "only_bom.csv": ("organizations", "0:: the file is empty"),
    "binary.csv": ("organizations", "0:: not a CSV or xlsx file"),
    "fake.xlsx": ("organizations", "0:: named .xlsx but not an xlsx workbook"),
    "legacy.xls": ("organizations", "0:: not a CSV or xlsx file"),
    "unknown_choice.csv": ("organizations", "2:kind: 'clinic' is not one of hospital"),
    "bad_date.csv": ("waves", "2:go_live: '2022-13-01' is not a date; expected YYYY-MM-DD"),
    "norwegian_date.csv": ("waves", "2:go_live: '12.11.2022' is not a date"),
    "number_out_of_range.csv": ("experts", "2:allocation_pct: 150 is out of range; expected 1"),
    "not_a_number.csv": ("experts", "2:allocation_pct: 'half' is not a number"),
    "unknown_role.csv": ("experts", "2:roles: chief: expected expert, analyst"),
    "bad_email.csv": ("experts", "2:email: 'new at stolav.no' is not an email address"),
    "duplicate_key.csv": ("organizations", "3:code: duplicate key STO: also on row 2"),
    "unknown_domain.csv": ("modules", "2:domain: 'XYZ' is not in the list of domains"),
    "unknown_reference.csv": ("waves", "2:organizations: not among the organizations: NOPE"),
    "missing_required_cell.csv": ("organizations", "2:name: name is required"),
    "extra_cells.csv": ("organizations", "2:#4: more cells than the 3 columns"),
    "unknown_expert.csv": ("approvals", "2:expert: nobody@stolav.no is not in the directory"),
    "approval_outside_domain.csv": (
        "approvals", "2:expert: Approve needs an expert of the domain MED"),
    "approval_by_non_expert.csv": (
        "approvals", "2:expert: Approve needs the role expert"),
    "changes_without_comment.csv": (
        "approvals", "2:comment: comment is required"),
    "evidence_in_future.csv": ("approvals", "2:date: date 2030-01-01 is in the future"),
    "stage_needs_demo.csv": (
        "decisions", "2:stage: stage demonstrated needs evidence that is missing (it is built): "
        "no demo with an attending expert"),
    "stage_needs_approvals.csv": (
        "decisions", "2:stage: stage approved needs evidence that is missing (it is "
        "demonstrated): needs 2 more approvers of the domain"),
    "stage_unknown.csv": ("decisions", "2:stage: 'done' is not one of proposed"),
    "stage_goes_back.csv": ("decisions", "2:stage: cannot go from demonstrated back to in_build"),
    "stage_without_decision_text.csv": (
        "decisions", "2:decision: decision is required"),
    "decider_not_in_forum.csv": (
        "decisions", "2:decided_by: decided by: lab@stolav.no not a member of the forum MED-H"),
    "withdrawn_without_reason.csv": ("decisions", "2:withdrawn_reason: reason is required"),
    "module_of_other_domain.csv": (
        "decisions", "2:module: module LAB-ORD belongs to domain LAB, not MED"),
    "domain_changes.csv": ("decisions", "2:domain: the domain of MED-0002 is MED"),
    "title_too_long.csv": ("decisions", "2:title: too long: 301 characters, at most 300"),
    "text_too_long.csv": ("decisions", "2:question: too long: 20001 characters, at most 20000"),
    "unknown_test_case.csv": ("test-runs", "2:test_case: no test case 'TC-9999'"),
    "defect_unknown_decision.csv": (
        "defects", "2:decision: not among the decisions: MED-9999"),
    "severity_out_of_range.csv": ("defects", "2:severity_vendor: 5 is out of range"),
    "criteria_unknown_wave.csv": ("criteria", "2:wave: not among the waves: W9"),
    "waiver_without_date.csv": (
        "criteria", "2:waiver_until: waiver: give both a reason and an expiry date, or neither"),
    "measurement_unknown_criterion.csv": (
        "measurements", "2:criterion: wave W1 has no criterion R99"),
    "replan_without_reason.csv": (
        "waves", "2:replan_reason: go_live moves from 2022-11-12 to 2023-05-01"),
    "too_big.csv": ("organizations", "0:: the file is too big"),
}  # fmt: skip
NOT_TABLES = {"empty.csv", "only_bom.csv", "binary.csv", "fake.xlsx", "legacy.xls", "too_big.csv"}


@pytest.fixture
def base(programme, actor):
    """The small programme with MED-0001 demonstrated, MED-0002 proposed, MED-0003 built."""
    fields = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
              "organizations": ["STO"], "criticality": "high"}  # fmt: skip
    hanne, ana = actor("hanne@stolav.no"), actor("ana@hemit.no")
    for title in ("First", "Second", "Third"):
        services.create_decision(programme, hanne, fields | {"title": title})
    for key in ("MED-0001", "MED-0003"):
        services.decide(programme, hanne, key, decision_text="Do it.",
                        decided_by=["hanne@stolav.no"])  # fmt: skip
        services.set_manual_stage(programme, ana, key, "start_build")
        services.set_manual_stage(programme, ana, key, "mark_built")
    evidence.save_demo(programme, ana, module="MED-ADM", date=None, decisions=["MED-0001"],
                       presenter="ana@hemit.no", attendees=["hanne@stolav.no"])  # fmt: skip
    return programme


def dump(conn) -> list[str]:
    return list(conn.iterdump())


def test_the_corpus_has_a_case_for_every_file():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(CASES)
    assert len(CASES) >= 30


def as_xlsx(csv_path: Path, folder: Path) -> Path:
    """The same cells on the first sheet of a workbook, written as plain strings."""
    book = openpyxl.Workbook()
    sheet = book.active
    for record in csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))):
        sheet.append(record)
    path = folder / (csv_path.stem + ".xlsx")
    book.save(path)
    return path


# Files that are not tables at all have no xlsx form; the CSV case covers them.
FORMAT_CASES = [(name, "csv") for name in sorted(CASES)] + [
    (name, "xlsx") for name in sorted(CASES) if name not in NOT_TABLES
]


@pytest.mark.parametrize(("name", "fmt"), FORMAT_CASES)
def test_a_bad_file_is_rejected_and_nothing_changes(base, db_path, tmp_path, capsys, name, fmt):
    kind, expected = CASES[name]
    path = BAD / name
    if fmt == "xlsx":
        path = as_xlsx(path, tmp_path)
    if name == "too_big.csv":
        store.put_setting(base, "import.max_bytes", 500)
    before = dump(base)
    code = cli.main(["import", kind, str(path), "--db", str(db_path)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"{path}:{expected}" in err
    assert all(line.startswith(f"{path}:") for line in err.strip().splitlines())
    assert dump(base) == before
    assert services.check(base) == []


def test_a_dry_run_of_a_bad_file_reports_the_same_errors(base, db_path, capsys):
    path = BAD / "stage_needs_demo.csv"
    assert cli.main(["import", "decisions", str(path), "--db", str(db_path), "--dry-run"]) == 1
    assert "no demo with an attending expert" in capsys.readouterr().err


def test_every_error_of_a_file_is_reported_not_just_the_first(base, db_path, tmp_path, capsys):
    rows = "".join(f"X{i},,clinic\n" for i in range(300))
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\n" + rows, encoding="utf-8")
    assert cli.main(["import", "organizations", str(path), "--db", str(db_path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 201 and lines[-1] == "... and 400 more errors"
    assert lines[0] == f"{path}:2:name: name is required"
    assert lines[1] == f"{path}:2:kind: 'clinic' is not one of hospital, municipality, gp_office"


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "colours", "x.csv"],
        ["import", "organizations", "/nonexistent/file.csv"],
        ["import", "all", "/nonexistent/folder"],
        ["export", "colours"],
        ["export", "all"],
    ],
)
def test_usage_errors_exit_2(base, db_path, argv, capsys):
    assert cli.main([*argv, "--db", str(db_path)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
