"""The import follows the app's rule book: every row is checked by the same use-case rules
(permissions, verdicts, demos, stage moves) as the app, with the importing person as the actor,
and the stages it leaves behind are the ones the evidence gives."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from decisions import cli, evidence, services, store
from decisions import io as transfer_io
from decisions.model import SYSTEM_ACTOR
from decisions.store import decisions as decision_store

EXPERTS = "email,name,organization,domains,roles,allocation_pct\n"
APPROVALS = "decision,expert,verdict,date,comment\n"
DECISIONS = ("key,title,domain,module,forum,scope,organizations,criticality,stage,decision,"
             "decided_by,decided_at\n")  # fmt: skip


@pytest.fixture(autouse=True)
def _check_is_clean_afterwards(request):
    """Whatever an import wrote or refused, `check` finds nothing wrong afterwards."""
    conn = request.getfixturevalue("programme") if "programme" in request.fixturenames else None
    yield
    if conn is not None:
        assert services.check(conn) == []


def deactivate(conn, email: str) -> None:
    """Deactivate a person as the People page does: the change and its event."""
    with store.transaction(conn):
        conn.execute("UPDATE experts SET active = 0 WHERE email = ?", (email,))
        at = services.now(conn)
        store.append_events(
            conn, [services.event(SYSTEM_ACTOR, at, "expert", email, "edited:active", 1, 0)]
        )


def run_import(conn, kind, text, actor=SYSTEM_ACTOR, *, data=None, name=None):
    source = transfer_io.Source(name or f"{kind}.csv", data if data is not None else
                                text.encode(), kind)  # fmt: skip
    return transfer_io.import_sources(conn, [source], actor)


def messages(result) -> list[str]:
    return [str(e) for e in result.errors]


def stage(conn, key: str) -> str:
    return decision_store.get_decision(conn, key)["stage"]


def event_count(conn) -> int:
    return store.scalar(conn, "SELECT count(*) FROM events")


# 1. Admin rights --------------------------------------------------------------------------


def test_a_manager_cannot_make_themselves_admin_by_import(programme, actor):
    text = EXPERTS + "mona@hemit.no,Mona,STO,,manager;admin,50\n"
    result = run_import(programme, "experts", text, actor("mona@hemit.no"))
    assert messages(result) == [
        "experts.csv:2:roles: Granting, removing or deactivating the admin role needs the role admin"
    ]
    assert "admin" not in actor("mona@hemit.no").roles


def test_an_import_cannot_remove_the_last_active_admin(programme):
    text = EXPERTS + "admin@hemit.no,Admin,STO,,manager,50\n"
    result = run_import(programme, "experts", text)
    assert messages(result) == [
        "experts.csv:2:roles: admin@hemit.no is the last active admin; name another first"
    ]
    text = "email,name,organization,domains,roles,allocation_pct,active\n" + (
        "admin@hemit.no,Admin,STO,,admin,50,no\n"
    )
    assert not run_import(programme, "experts", text).ok


def test_an_admin_is_handed_over_in_one_file(programme):
    text = EXPERTS + "admin@hemit.no,Admin,STO,,manager,50\nmona@hemit.no,Mona,STO,,admin,50\n"
    result = run_import(programme, "experts", text)
    assert result.ok, result.error_lines()


# 2. Verdicts and test runs ----------------------------------------------------------------


def test_a_manager_cannot_import_a_verdict_for_someone_else(programme, actor, decision_at):
    key = decision_at("demonstrated")
    now = services.now(programme)  # evidence dated after the build round began
    text = APPROVALS + f"{key},hanne@stolav.no,approve,{now},\n"
    result = run_import(programme, "approvals", text, actor("mona@hemit.no"))
    assert messages(result) == [
        "approvals.csv:2:expert: Recording a verdict for someone else needs the role admin"
    ]


def test_a_verdict_by_an_inactive_expert_does_not_count(programme, decision_at):
    key = decision_at("demonstrated")
    now = services.now(programme)  # evidence dated after the build round began
    deactivate(programme, "per@stolav.no")
    text = APPROVALS + (
        f"{key},hanne@stolav.no,approve,{now},\n{key},per@stolav.no,approve,{now},\n"
    )
    result = run_import(programme, "approvals", text)
    assert messages(result) == ["approvals.csv:3:expert: expert per@stolav.no is not in the "
                                "directory"]  # fmt: skip
    assert stage(programme, key) == "demonstrated"


def test_a_verdict_before_the_demonstration_is_refused(programme, actor, decision_at):
    key = decision_at("built")
    now = services.now(programme)  # evidence dated after the build round began
    text = APPROVALS + (
        f"{key},hanne@stolav.no,approve,{now},\n{key},per@stolav.no,approve,{now},\n"
    )
    result = run_import(programme, "approvals", text)
    assert messages(result) == [
        f"approvals.csv:{n}:expert: cannot approve a decision that is built" for n in (2, 3)
    ]
    evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=[key], presenter="ana@hemit.no",
                       attendees=["hanne@stolav.no"])  # fmt: skip
    assert stage(programme, key) == "demonstrated"
    assert services.check(programme) == []


def test_a_manager_cannot_import_test_runs(programme, actor, decision_at):
    key = decision_at("in_test")
    now = services.now(programme)  # evidence dated after the build round began
    case = store.scalar(programme, "SELECT test_case FROM test_case_decisions WHERE decision = ?",
                        (key,))  # fmt: skip
    text = f"test_case,date,result,tester\n{case},{now},passed,ana@hemit.no\n"
    result = run_import(programme, "test-runs", text, actor("mona@hemit.no"))
    assert messages(result) == [
        "test-runs.csv:2:tester: Recording a test run needs the role tester or analyst or admin"
    ]
    assert stage(programme, key) == "in_test"


def test_a_manager_cannot_import_test_cases(programme, actor, decision_at):
    key = decision_at("approved")
    text = f"key,title,kind,decisions\nTC-0100,Sign twice,application,{key}\n"
    result = run_import(programme, "test-cases", text, actor("mona@hemit.no"))
    assert messages(result) == [
        "test-cases.csv:2:key: Recording a test case needs the role tester or analyst or admin"
    ]
    assert run_import(programme, "test-cases", text).ok


# 3. Demos ---------------------------------------------------------------------------------


def test_a_held_demo_without_an_attending_expert_is_refused(programme, decision_at):
    key = decision_at("built")
    now = services.now(programme)  # evidence dated after the build round began
    text = ("key,date,module,decisions,presenter,attendees\n"
            f"DEMO-0100,{now},MED-ADM,{key},ana@hemit.no,ana@hemit.no;mona@hemit.no\n")  # fmt: skip
    result = run_import(programme, "demos", text)
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith(
        "demos.csv:2:attendees: attendees: ana@hemit.no, mona@hemit.no attended, but no expert"
    )
    assert stage(programme, key) == "built"


# 4. Manual stages -------------------------------------------------------------------------


def test_a_manager_cannot_move_a_decision_into_build(programme, actor, decision_at):
    key = decision_at("decided")
    rows = list(csv.DictReader(io.StringIO(transfer_io.export_kind(programme, "decisions")
                                           .decode("utf-8-sig"))))  # fmt: skip
    rows[0]["stage"] = "built"
    result = run_import(programme, "decisions", write_csv(rows), actor("mona@hemit.no"))
    assert messages(result) == [
        "decisions.csv:2:stage: Start the build needs the role analyst or admin"
    ]
    assert stage(programme, key) == "decided"


def test_a_manager_cannot_import_a_new_decision_as_built(programme, actor):
    text = (
        DECISIONS
        + "MED-0100,New,MED,MED-ADM,MED-H,hospital,STO,high,built,Do it.,"
        + ("hanne@stolav.no,2022-09-01\n")
    )
    result = run_import(programme, "decisions", text, actor("mona@hemit.no"))
    assert messages(result) == [
        "decisions.csv:2:stage: Start the build needs the role analyst or admin"
    ]


# 5. Facts behind the stages ---------------------------------------------------------------


def test_moving_an_expert_to_another_domain_re_derives_the_stages(programme, decision_at):
    key = decision_at("approved")
    text = EXPERTS + "per@stolav.no,Per,STO,LAB,expert,50\n"
    result = run_import(programme, "experts", text)
    assert result.ok, result.error_lines()
    assert stage(programme, key) == "demonstrated"
    assert services.check(programme) == []


def test_changing_an_organisations_kind_re_derives_the_stages(programme, decision_at):
    key = decision_at("approved", scope="joint")
    text = "code,name,kind\nTRD,Trondheim kommune,hospital\n"
    result = run_import(programme, "organizations", text)
    assert result.ok, result.error_lines()
    assert stage(programme, key) == "demonstrated"
    assert services.check(programme) == []


# 6. A programme in progress ---------------------------------------------------------------


def migration_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "decisions.csv").write_text(DECISIONS + (
        "MED-0100,Sign twice,MED,MED-ADM,MED-H,hospital,STO,high,built,Two nurses sign.,"
        "hanne@stolav.no,2022-08-01\n"
        "MED-0101,Scan first,MED,MED-ADM,MED-H,hospital,STO,high,built,Scan the wristband.,"
        "hanne@stolav.no,2022-08-02\n"))  # fmt: skip
    (folder / "demos.csv").write_text("key,date,module,decisions,presenter,attendees\n"
                                      "DEMO-0100,2022-08-10,MED-ADM,MED-0100;MED-0101,"
                                      "ana@hemit.no,hanne@stolav.no\n")  # fmt: skip
    (folder / "approvals.csv").write_text(APPROVALS + "".join(
        f"{key},{who},approve,2022-08-11,\n" for key in ("MED-0100", "MED-0101")
        for who in ("hanne@stolav.no", "per@stolav.no")))  # fmt: skip
    (folder / "test-cases.csv").write_text(
        "key,title,kind,decisions\nTC-0100,Both,application,MED-0100;MED-0101\n"
    )
    (folder / "test-runs.csv").write_text(
        "test_case,date,result,tester\nTC-0100,2022-08-12,passed,tess@hemit.no\n"
    )
    return folder


def test_migrating_a_programme_in_progress_keeps_its_evidence(programme, tmp_path):
    folder = migration_folder(tmp_path / "migration")
    result = transfer_io.import_sources(programme, transfer_io.folder_sources(folder),
                                        SYSTEM_ACTOR)  # fmt: skip
    assert result.ok, result.error_lines()
    assert stage(programme, "MED-0100") == stage(programme, "MED-0101") == "tested"
    assert decision_store.get_decision(programme, "MED-0100")["built_at"] == "2022-08-01"
    notes = [n for row in result.files[0].rows for n in row.notes]
    assert "built; the evidence takes it on to tested" in notes
    before = event_count(programme)
    again = transfer_io.import_sources(programme, transfer_io.folder_sources(folder),
                                       SYSTEM_ACTOR)  # fmt: skip
    assert again.ok, again.error_lines()
    assert event_count(programme) == before


# 7. A changed text in an exported spreadsheet ---------------------------------------------


def write_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_text_change_in_an_export_makes_a_new_version_at_decided(programme, decision_at):
    key = decision_at("demonstrated")
    rows = list(csv.DictReader(io.StringIO(transfer_io.export_kind(programme, "decisions")
                                           .decode("utf-8-sig"))))  # fmt: skip
    assert rows[0]["stage"] == "demonstrated"
    rows[0]["decision"] = "As decided, and the pharmacist checks."
    result = run_import(programme, "decisions", write_csv(rows))
    assert result.ok, result.error_lines()
    decision = decision_store.get_decision(programme, key)
    assert (decision["version"], decision["stage"]) == (2, "decided")
    outcome = result.files[0].rows[0]
    assert outcome.status == "updated"
    assert any("now decided" in note for note in outcome.notes), outcome.notes
    assert services.check(programme) == []


# 8. Line endings --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reimporting_an_untouched_export_with_windows_line_breaks_changes_nothing(
    programme, actor, decision_at, fmt
):
    key = decision_at("proposed")
    services.decide(programme, actor("hanne@stolav.no"), key,
                    decision_text="Line one\r\nLine two\r\n", rationale="Why\r\nso",
                    decided_by=["hanne@stolav.no"])  # fmt: skip
    data = transfer_io.export_kind(programme, "decisions", fmt)
    before = event_count(programme)
    result = run_import(programme, "decisions", "", data=data, name=f"decisions.{fmt}")
    assert result.ok, result.error_lines()
    assert result.files[0].counts["unchanged"] == 1
    assert event_count(programme) == before
    assert decision_store.get_decision(programme, key)["version"] == 1


# 9. The command line's --as ---------------------------------------------------------------


def actors_of_last_events(conn, n: int) -> set[str]:
    return {r[0] for r in conn.execute("SELECT actor FROM events ORDER BY id DESC LIMIT ?",
                                       (n,))}  # fmt: skip


def test_import_as_a_named_person_records_them_as_the_actor(programme, db_path, tmp_path):
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\nNEW,New hospital,hospital\n")
    argv = ["import", "organizations", str(path), "--db", str(db_path), "--as", "mona@hemit.no"]
    assert cli.main(argv) == 0
    assert actors_of_last_events(programme, 1) == {"mona@hemit.no"}


def test_import_without_as_is_done_by_system(programme, db_path, tmp_path):
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\nNEW,New hospital,hospital\n")
    assert cli.main(["import", "organizations", str(path), "--db", str(db_path)]) == 0
    assert actors_of_last_events(programme, 1) == {"system"}


def test_import_as_applies_that_persons_permissions(programme, db_path, tmp_path, capsys):
    path = tmp_path / "experts.csv"
    path.write_text(EXPERTS + "mona@hemit.no,Mona,STO,,manager;admin,50\n")
    argv = ["import", "experts", str(path), "--db", str(db_path), "--as", "mona@hemit.no"]
    assert cli.main(argv) == 1
    assert "admin role needs the role admin" in capsys.readouterr().err
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\nNEW,New hospital,hospital\n")
    argv = ["import", "organizations", str(path), "--db", str(db_path), "--as", "hanne@stolav.no"]
    assert cli.main(argv) == 1
    assert "Importing needs the role manager or admin" in capsys.readouterr().err


@pytest.mark.parametrize("email", ["nobody@hemit.no", "inactive"])
def test_import_as_an_unknown_or_inactive_person_is_refused(programme, db_path, tmp_path, capsys,
                                                             email):  # fmt: skip
    if email == "inactive":
        email = "mona@hemit.no"
        deactivate(programme, email)
    path = tmp_path / "organizations.csv"
    path.write_text("code,name,kind\nNEW,New hospital,hospital\n")
    before = event_count(programme)
    argv = ["import", "organizations", str(path), "--db", str(db_path), "--as", email]
    assert cli.main(argv) == 1
    assert f"--as {email}: no active person with this email" in capsys.readouterr().err
    assert event_count(programme) == before


# 10. Structure ----------------------------------------------------------------------------

IO = Path(__file__).parents[1] / "decisions" / "io"


def io_imports(path: Path) -> set[str]:
    """The decisions.io modules a module imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "decisions.io":
                found |= {a.name for a in node.names}
            elif node.module.startswith("decisions.io."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names
                      if a.name.startswith("decisions.io.")}  # fmt: skip
    return found


def test_there_is_no_import_cycle_inside_decisions_io():
    graph = {p.stem: io_imports(p) & {q.stem for q in IO.glob("*.py")}
             for p in IO.glob("*.py") if p.stem != "__init__"}  # fmt: skip

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n}))
                   for n in graph.get(start, ()))  # fmt: skip

    cycles = [m for m in graph if reaches(m, m, {m})]
    assert cycles == []


def test_the_command_line_handlers_live_in_cli():
    assert not [name for name in dir(transfer_io) if name.startswith("cli_")]
    assert "argparse" not in (IO / "__init__.py").read_text(encoding="utf-8")


# 11. Fields the approval rule reads, edited by import ----------------------------------------


def exported_decisions(conn) -> list[dict]:
    return list(csv.DictReader(io.StringIO(transfer_io.export_kind(conn, "decisions")
                                           .decode("utf-8-sig"))))  # fmt: skip


def edit_reasons(conn, key: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(
        "SELECT action, from_value, to_value, reason FROM events WHERE entity = 'decision' "
        "AND entity_key = ? AND action LIKE 'edited:%' ORDER BY id", (key,))]  # fmt: skip


@pytest.mark.parametrize(
    ("made", "column", "value"),
    [({"criticality": "critical"}, "criticality", "high"),
     ({"scope": "joint"}, "scope", "hospital")],
)  # fmt: skip
def test_an_imported_rule_field_edit_after_built_holds_the_stage(
    programme, actor, decision_at, made, column, value
):
    key = decision_at("demonstrated", **made)
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(programme, actor(email), key, "approve")
    assert stage(programme, key) == "demonstrated"
    rows = exported_decisions(programme)
    rows[0][column] = value
    result = run_import(programme, "decisions", write_csv(rows))
    assert result.ok, result.error_lines()
    assert stage(programme, key) == "demonstrated"  # the edit raises nothing by itself
    assert decision_store.get_decision(programme, key)[column] == value
    [(action, _, new, why)] = edit_reasons(programme, key)
    assert (action, new, why) == (f"edited:{column}", value,
                                  "changed by import of decisions.csv row 2")  # fmt: skip
    outcome = result.files[0].rows[0]
    assert outcome.status == "updated" and column in outcome.changes
    assert any("held at demonstrated" in note for note in outcome.notes), outcome.notes
    evidence.record_verdict(programme, actor("kari@stolav.no"), key, "approve")
    assert stage(programme, key) == "approved"  # new evidence after the edit carries it on


def test_an_imported_rule_field_edit_may_lower_the_stage(programme, decision_at):
    key = decision_at("approved")
    rows = exported_decisions(programme)
    rows[0]["criticality"] = "critical"
    rows[0]["stage"] = "demonstrated"  # the row says the stage the edit leaves
    result = run_import(programme, "decisions", write_csv(rows))
    assert result.ok, result.error_lines()
    assert stage(programme, key) == "demonstrated"
    assert decision_store.get_decision(programme, key)["stage_cap"] is None


def test_an_import_cannot_promote_a_decision_by_editing_a_rule_field(programme, actor, decision_at):
    key = decision_at("demonstrated", criticality="critical")
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(programme, actor(email), key, "approve")
    rows = exported_decisions(programme)
    rows[0].update(criticality="high", stage="approved")
    result = run_import(programme, "decisions", write_csv(rows))
    assert len(result.errors) == 1, result.error_lines()
    message = str(result.errors[0])
    assert message.startswith("decisions.csv:2:stage: stage approved needs evidence that is "
                              "missing (it is demonstrated): held at demonstrated since an edit "
                              "on ")  # fmt: skip
    assert message.endswith("until an expert of the domain approves after it")
    assert stage(programme, key) == "demonstrated"
    assert decision_store.get_decision(programme, key)["criticality"] == "critical"


def test_an_imported_rule_field_edit_before_built_needs_no_hold(programme, decision_at):
    key = decision_at("decided")
    rows = exported_decisions(programme)
    rows[0]["criticality"] = "low"
    result = run_import(programme, "decisions", write_csv(rows))
    assert result.ok, result.error_lines()
    [(_, _, _, why)] = edit_reasons(programme, key)
    assert why == "changed by import of decisions.csv row 2"
    assert decision_store.get_decision(programme, key)["stage_cap"] is None


def test_an_imported_organisations_edit_after_built_carries_the_imports_reason(
    programme, decision_at
):
    key = decision_at("built")
    rows = exported_decisions(programme)
    rows[0]["organizations"] = "ALL"
    result = run_import(programme, "decisions", write_csv(rows))
    assert result.ok, result.error_lines()
    [(action, _, new, why)] = edit_reasons(programme, key)
    assert (action, new, why) == ("edited:organizations", "ALL",
                                  "changed by import of decisions.csv row 2")  # fmt: skip
    assert stage(programme, key) == "built"


def test_a_held_stage_in_a_file_needs_both_its_columns(programme):
    text = (DECISIONS.rstrip("\n") + ",built_at,stage_cap\n"
            "MED-0100,New,MED,MED-ADM,MED-H,hospital,STO,high,built,Do it.,"
            "hanne@stolav.no,2022-09-01,2022-09-02,demonstrated\n")  # fmt: skip
    result = run_import(programme, "decisions", text)
    assert messages(result) == [
        "decisions.csv:2:stage_cap_since: a held stage needs both stage_cap and stage_cap_since"
    ]
