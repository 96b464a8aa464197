"""One path for every change: a row of an import and the same change made in the app meet the
same use case, so they end the same way, refused with the same words or written with the same
events; and the defects found where the import took its own path stay fixed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine

from decisions import admin, cli, evidence, planning, services, store
from decisions import io as transfer_io
from decisions.model import SYSTEM_ACTOR, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import transfer

MORNING = dt.datetime(2022, 9, 15, 10, 0, 0)
LATER_TODAY = "2022-09-15T23:59:00"


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(MORNING, tick=False):
        yield


def deactivate(conn, email: str) -> None:
    with store.transaction(conn):
        conn.execute("UPDATE experts SET active = 0 WHERE email = ?", (email,))
        store.append_events(conn, [services.event(SYSTEM_ACTOR, services.now(conn), "expert",
                                                  email, "edited:active", 1, 0)])  # fmt: skip


def load(conn, email: str):
    return decision_store.load_actor(conn, email) if email != "system" else SYSTEM_ACTOR


@dataclass(frozen=True)
class Case:
    """A change: the state it starts from (`given`: conn -> the decision key it is about),
    who makes it, the app's use case (conn, actor, key), and the same change as a file."""

    kind: str
    given: Callable
    who: str
    app: Callable
    row: Callable  # key -> the file's text
    refused: bool


def built(conn) -> str:
    return _drive(conn, "built")


def _drive(conn, stage: str, **fields) -> str:
    from conftest import drive_decision

    return drive_decision(conn, stage, **fields)


def demonstrated(conn) -> str:
    return _drive(conn, "demonstrated")


def in_test(conn) -> str:
    return _drive(conn, "in_test")


def decided(conn) -> str:
    return _drive(conn, "decided")


def with_inactive(given: Callable, email: str) -> Callable:
    """`given`, and then `email` deactivated."""

    def state(conn) -> str:
        key = given(conn)
        deactivate(conn, email)
        return key

    return state


def nothing(conn) -> str:
    return ""


DEMOS = "key,date,module,decisions,presenter,attendees,recording_url\n"


def demo(date="{now}", module="MED-ADM", presenter="ana@hemit.no", attendees="hanne@stolav.no",
         url=""):  # fmt: skip
    def app(conn, actor, key):
        return evidence.save_demo(conn, actor, key="DEMO-0100", module=module,
                                  date=date.format(now=services.now(conn)), decisions=[key],
                                  presenter=presenter, attendees=attendees.split(";"),
                                  recording_url=url)  # fmt: skip

    def row(conn, key):
        when = date.format(now=services.now(conn))
        return DEMOS + f"DEMO-0100,{when},{module},{key},{presenter},{attendees},{url}\n"

    return app, row


APPROVALS = "decision,expert,verdict,date,comment\n"


def verdict(expert="hanne@stolav.no", date="{now}", choice="approve"):
    def app(conn, actor, key):
        return evidence.record_verdict(conn, actor, key, choice, expert=expert,
                                       date=date.format(now=services.now(conn)))  # fmt: skip

    def row(conn, key):
        return APPROVALS + f"{key},{expert},{choice},{date.format(now=services.now(conn))},\n"

    return app, row


def run(tester="ana@hemit.no", date="{now}"):
    def case_of(conn, key):
        return store.scalar(conn, "SELECT test_case FROM test_case_decisions WHERE decision = ?",
                            (key,))  # fmt: skip

    def app(conn, actor, key):
        return evidence.record_test_run(conn, actor, test_case=case_of(conn, key),
                                        result="passed", tester=tester,
                                        date=date.format(now=services.now(conn)))  # fmt: skip

    def row(conn, key):
        when = date.format(now=services.now(conn))
        return f"test_case,date,result,tester\n{case_of(conn, key)},{when},passed,{tester}\n"

    return app, row


def measurement(reporter="mona@hemit.no", date="2022-09-14"):
    def app(conn, actor, key):
        return planning.record_measurement(conn, actor, "W1", "R7", value=91, date=date,
                                           reported_by=reporter)  # fmt: skip

    def row(conn, key):
        return f"wave,criterion,date,value,reported_by\nW1,R7,{date},91,{reporter}\n"

    return app, row


def criterion(waiver_reason="", waiver_until=""):
    def app(conn, actor, key):
        return planning.save_criterion(conn, actor, "W1", "X1", {
            "name": "Printers tested", "kind": "reported", "metric": "printers_pct",
            "comparator": ">=", "threshold": 90, "owner": "mona@hemit.no",
            "waiver_reason": waiver_reason, "waiver_until": waiver_until})  # fmt: skip

    def row(conn, key):
        return ("wave,code,name,kind,metric,comparator,threshold,owner,waiver_reason,"
                "waiver_until\n"
                f"W1,X1,Printers tested,reported,printers_pct,>=,90,mona@hemit.no,"
                f"{waiver_reason},{waiver_until}\n")  # fmt: skip

    return app, row


def forum(name="Laboratory group"):
    def app(conn, actor, key):
        return admin.save_forum(conn, actor, code="NEW-H", name=name, level=1,
                                scope="hospital", domains=["LAB"], members=[])  # fmt: skip

    def row(conn, key):
        return f"code,name,level,scope,domains\nNEW-H,{name},1,hospital,LAB\n"

    return app, row


def decision_row(conn, exported_key: str, **cells) -> str:
    """The decision as exported, with `cells` changed."""
    exported = transfer_io.export_kind(conn, "decisions").decode("utf-8-sig")
    rows = [r | cells for r in csv.DictReader(io.StringIO(exported)) if r["key"] == exported_key]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def start_build():
    def app(conn, actor, key):
        return services.set_manual_stage(conn, actor, key, "start_build")

    def row(conn, key):
        return decision_row(conn, key, stage="in_build")

    return app, row


def manual(action: str, stage: str, reason: str = ""):
    def app(conn, actor, key):
        return services.set_manual_stage(conn, actor, key, action, reason=reason)

    def row(conn, key):
        return decision_row(conn, key, stage=stage, withdrawn_reason=reason)

    return app, row


def all_tests_passed(conn) -> str:
    return _drive(conn, "tested")


def ready_but_for_a_severe_defect(conn) -> str:
    key = all_tests_passed(conn)
    evidence.save_defect(conn, SYSTEM_ACTOR, key="DEF-0101", title="Wrong dose",
                         severity_vendor=2, severity_clinical=1, decision=key,
                         opened="2022-09-14")  # fmt: skip
    return key


def in_build(conn) -> str:
    return _drive(conn, "in_build")


def revise(text="As revised."):
    def app(conn, actor, key):
        return services.revise(conn, actor, key, decision_text=text, reason="New rules")

    def row(conn, key):
        return decision_row(conn, key, decision=text)

    return app, row


def propose(key="MED-9001", **fields):
    def app(conn, actor, given):
        from conftest import DECISION_FIELDS

        return services.create_decision(conn, actor, {**DECISION_FIELDS, "key": key, **fields})

    def row(conn, given):
        cells = {c: ";".join(v) if isinstance(v, list) else v for c, v in fields.items()}
        return decision_row(conn, given, key=key, **cells)

    return app, row


def edit(**fields):
    def app(conn, actor, key):
        return services.edit_decision(conn, actor, key, fields, reason="Wider use")

    def row(conn, key):
        cells = {c: ";".join(v) if isinstance(v, list) else v for c, v in fields.items()}
        return decision_row(conn, key, **cells)

    return app, row


def decide(decided_by="hanne@stolav.no"):
    def app(conn, actor, key):
        return services.decide(conn, actor, key, decision_text="As decided.",
                               decided_by=[decided_by])  # fmt: skip

    def row(conn, key):
        return decision_row(conn, key, stage="decided", decision="As decided.",
                            decided_by=decided_by)  # fmt: skip

    return app, row


def escalate(to_forum="FBG"):
    def app(conn, actor, key):
        return services.escalate(conn, actor, key, to_forum=to_forum, reason="Both sides")

    def row(conn, key):
        return decision_row(conn, key, forum=to_forum)

    return app, row


def a_test_case(title="Sign twice"):
    def app(conn, actor, key):
        return evidence.save_test_case(conn, actor, key="TC-0100", title=title,
                                       kind="application", decisions=[key])  # fmt: skip

    def row(conn, key):
        return f"key,title,kind,decisions\nTC-0100,{title},application,{key}\n"

    return app, row


def defect():
    def app(conn, actor, key):
        return evidence.save_defect(conn, actor, key="DEF-0100", title="Wrong dose",
                                    severity_vendor=2, severity_clinical=1, decision=key,
                                    opened="2022-09-14")  # fmt: skip

    def row(conn, key):
        return ("key,title,severity_vendor,severity_clinical,status,decision,opened\n"
                f"DEF-0100,Wrong dose,2,1,open,{key},2022-09-14\n")  # fmt: skip

    return app, row


def replan(reason="Vendor delay"):
    def app(conn, actor, key):
        return planning.replan_wave(conn, actor, "W1", go_live="2023-01-14", reason=reason)

    def row(conn, key):
        return ("code,name,go_live,organizations,replan_reason\n"
                f"W1,Wave 1,2023-01-14,STO;TRD,{reason}\n")  # fmt: skip

    return app, row


def person(roles="expert", email="nina@stolav.no"):
    def app(conn, actor, key):
        return admin.save_expert(conn, actor, email=email, name="Nina", organization="STO",
                                 domains=["MED"], roles=roles.split(";"),
                                 allocation_pct=50)  # fmt: skip

    def row(conn, key):
        return ("email,name,organization,domains,roles,allocation_pct\n"
                f"{email},Nina,STO,MED,{roles},50\n")  # fmt: skip

    return app, row


def proposed(conn) -> str:
    return _drive(conn, "proposed")


def case(kind, given, who, change, refused=True) -> Case:
    app, row = change
    return Case(kind, given, who, app, row, refused)


CASES = {
    "demo presented by one who may not record demos": case(
        "demos", built, "admin@hemit.no", demo(presenter="hanne@stolav.no")),
    "held demo whose only attendee is inactive": case(
        "demos", with_inactive(built, "per@stolav.no"), "admin@hemit.no",
        demo(attendees="per@stolav.no")),
    "held demo with a javascript recording link": case(
        "demos", built, "admin@hemit.no", demo(url="javascript:alert(1)")),
    "held demo of a decision not built yet": case(
        "demos", decided, "admin@hemit.no", demo()),
    "held demo of another module's decision": case(
        "demos", built, "admin@hemit.no", demo(module="LAB-ORD")),
    "held demo dated later today": case(
        "demos", built, "admin@hemit.no", demo(date=LATER_TODAY)),
    "held demo by a manager": case("demos", built, "mona@hemit.no", demo(), refused=False),
    "held demo": case("demos", built, "admin@hemit.no", demo(), refused=False),
    "verdict dated later today": case(
        "approvals", demonstrated, "admin@hemit.no", verdict(date=LATER_TODAY)),
    "verdict for someone else by a manager": case(
        "approvals", demonstrated, "mona@hemit.no", verdict()),
    "verdict by an inactive expert": case(
        "approvals", with_inactive(demonstrated, "kari@stolav.no"), "admin@hemit.no",
        verdict(expert="kari@stolav.no")),
    "verdict for an expert, by an admin": case(
        "approvals", demonstrated, "admin@hemit.no", verdict(expert="kari@stolav.no"),
        refused=False),
    "verdict by one outside the domain": case(
        "approvals", demonstrated, "admin@hemit.no", verdict(expert="lab@stolav.no")),
    "test run by one who may not record runs": case(
        "test-runs", in_test, "admin@hemit.no", run(tester="hanne@stolav.no")),
    "test run by an inactive tester": case(
        "test-runs", with_inactive(in_test, "ana@hemit.no"), "admin@hemit.no", run()),
    "test run dated later today": case(
        "test-runs", in_test, "admin@hemit.no", run(date=LATER_TODAY)),
    "test run by a manager": case("test-runs", in_test, "mona@hemit.no", run()),
    "test run": case("test-runs", in_test, "admin@hemit.no", run(), refused=False),
    "measurement reported by a viewer": case(
        "measurements", nothing, "admin@hemit.no", measurement(reporter="vera@hemit.no")),
    "measurement reported by an inactive manager": case(
        "measurements", with_inactive(built, "mona@hemit.no"), "admin@hemit.no", measurement()),
    "measurement dated tomorrow": case(
        "measurements", nothing, "admin@hemit.no", measurement(date="2022-09-16")),
    "measurement": case("measurements", nothing, "admin@hemit.no", measurement(),
                        refused=False),
    "criterion added": case("criteria", nothing, "mona@hemit.no", criterion(), refused=False),
    "criterion added with a waiver": case(
        "criteria", nothing, "mona@hemit.no",
        criterion(waiver_reason="Printers come in October", waiver_until="2022-10-31"),
        refused=False),
    "criterion added with a waiver but no expiry": case(
        "criteria", nothing, "mona@hemit.no", criterion(waiver_reason="Printers late")),
    "forum named like another": case("forums", nothing, "admin@hemit.no", forum()),
    "forum": case("forums", nothing, "admin@hemit.no", forum(name="New group"),
                  refused=False),
    "test case": case("test-cases", built, "admin@hemit.no", a_test_case(), refused=False),
    "test case by a manager": case("test-cases", built, "mona@hemit.no", a_test_case()),
    "defect": case("defects", built, "admin@hemit.no", defect(), refused=False),
    "go-live moved": case("waves", nothing, "mona@hemit.no", replan(), refused=False),
    "person added": case("experts", nothing, "admin@hemit.no", person(), refused=False),
    "admin granted by a manager": case(
        "experts", nothing, "mona@hemit.no", person(roles="expert;admin")),
    "proposal decided": case("decisions", proposed, "mona@hemit.no", decide(), refused=False),
    "proposal decided by one outside its forum": case(
        "decisions", proposed, "mona@hemit.no", decide(decided_by="lab@stolav.no")),
    "build started by a manager": case("decisions", decided, "mona@hemit.no", start_build()),
    "build started": case("decisions", decided, "admin@hemit.no", start_build(),
                          refused=False),
    "build marked built": case("decisions", in_build, "admin@hemit.no",
                               manual("mark_built", "built"), refused=False),
    "build marked built by a manager": case("decisions", in_build, "mona@hemit.no",
                                            manual("mark_built", "built")),
    "marked ready": case("decisions", all_tests_passed, "admin@hemit.no", manual("mark_ready", "ready"),
                         refused=False),
    "marked ready by a manager": case("decisions", all_tests_passed, "mona@hemit.no",
                                      manual("mark_ready", "ready"), refused=False),
    "marked ready with an open severe defect": case(
        "decisions", ready_but_for_a_severe_defect, "admin@hemit.no", manual("mark_ready", "ready")),
    "withdrawn": case("decisions", decided, "admin@hemit.no",
                      manual("withdraw", "withdrawn", reason="Not needed"), refused=False),
    "withdrawn without a reason": case("decisions", decided, "admin@hemit.no",
                                       manual("withdraw", "withdrawn")),
    "proposal withdrawn by a manager": case("decisions", proposed, "mona@hemit.no",
                                            manual("withdraw", "withdrawn", reason="Not needed"),
                                            refused=False),
    "built decision revised": case("decisions", built, "admin@hemit.no", revise(),
                                   refused=False),
    "decided text revised by a manager": case("decisions", decided, "mona@hemit.no", revise(),
                                              refused=False),
    "decision revised to no text": case("decisions", built, "admin@hemit.no", revise(text="")),
    "proposal made": case("decisions", proposed, "mona@hemit.no", propose(), refused=False),
    "proposal made with an owner not in the directory": case(
        "decisions", proposed, "mona@hemit.no", propose(owner="nobody@stolav.no")),
    "proposal made for an organisation not in the list": case(
        "decisions", proposed, "mona@hemit.no", propose(organizations=["XYZ"])),
    "proposal made in a forum not in the list": case(
        "decisions", proposed, "mona@hemit.no", propose(forum="NOPE")),
    "proposal escalated": case("decisions", proposed, "mona@hemit.no", escalate(),
                               refused=False),
    "proposal escalated to a forum of its own level": case(
        "decisions", proposed, "mona@hemit.no", escalate(to_forum="MED-M")),
    "decided decision escalated": case("decisions", decided, "mona@hemit.no", escalate()),
    "title edited": case("decisions", proposed, "mona@hemit.no", edit(title="Sign twice"),
                         refused=False),
    "built decision made to affect all": case(
        "decisions", built, "admin@hemit.no", edit(organizations=["ALL"]), refused=False),
    "organisation outside its scope added": case(
        "decisions", built, "admin@hemit.no", edit(organizations=["STO", "TRD"])),
    "scope edited away from its organisations": case(
        "decisions", decided, "admin@hemit.no", edit(scope="municipality")),
}  # fmt: skip


def events_after(conn, last: int) -> list[tuple]:
    """What the events after `last` say, but for their reasons (the import names its file)."""
    return [(e["entity"], e["action"], e["from_value"], e["to_value"]) for e in
            store.rows(conn, "SELECT * FROM events WHERE id > ? ORDER BY id", (last,))]  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_the_app_and_the_import_end_a_change_the_same_way(programme, name):
    change = CASES[name]
    key = change.given(programme)
    last = store.last_event(programme)[0]
    app_copy = transfer.private_copy(programme)
    try:
        change.app(app_copy, load(app_copy, change.who), key)
        app_refusal, app_events = None, events_after(app_copy, last)
    except WorkflowError as refused:
        app_refusal, app_events = str(refused), []
    source = transfer_io.Source(f"{change.kind}.csv", change.row(programme, key).encode(),
                                change.kind)  # fmt: skip
    result = transfer_io.import_sources(programme, [source], load(programme, change.who))
    import_refusals = [e.message for e in result.errors]
    assert (app_refusal is not None) == change.refused, app_refusal
    assert import_refusals == ([app_refusal] if change.refused else [])
    if not change.refused:
        assert events_after(programme, last) == app_events


# The defects, as found -------------------------------------------------------------------------


def test_a_refusal_names_file_row_and_the_column_it_is_about(programme, decision_at):
    key = decision_at("built")
    deactivate(programme, "per@stolav.no")
    now = services.now(programme)
    text = DEMOS + "".join(
        f"DEMO-010{n},{now},MED-ADM,{key},{cells}\n"
        for n, cells in enumerate(
            [
                "hanne@stolav.no,hanne@stolav.no,",
                "ana@hemit.no,hanne@stolav.no,javascript:alert(1)",
                "ana@hemit.no,per@stolav.no,",
            ]
        )
    )
    text += f"DEMO-0200,{LATER_TODAY},MED-ADM,{key},ana@hemit.no,hanne@stolav.no,\n"
    result = transfer_io.import_sources(
        programme, [transfer_io.Source("demos.csv", text.encode(), "demos")], SYSTEM_ACTOR
    )
    assert [f"{e.file}:{e.row}:{e.column}" for e in result.errors] == [
        "demos.csv:2:presenter",
        "demos.csv:3:recording_url",
        "demos.csv:4:attendees",
        "demos.csv:5:date",
    ]


def test_a_held_demo_dated_later_today_does_not_wait_for_the_build(programme, decision_at):
    key = decision_at("in_build")
    text = DEMOS + f"DEMO-0100,{LATER_TODAY},MED-ADM,{key},ana@hemit.no,hanne@stolav.no,\n"
    result = transfer_io.import_sources(
        programme, [transfer_io.Source("demos.csv", text.encode(), "demos")], SYSTEM_ACTOR
    )
    assert not result.ok
    assert [e.column for e in result.errors] == ["date"]
    assert "in the future" in result.errors[0].message


def test_a_forum_named_like_an_existing_one_is_refused_in_its_own_file_row_and_column(
    programme, db_path, capsys, tmp_path
):
    folder = tmp_path / "all"
    folder.mkdir()
    (folder / "forums.csv").write_text(
        "code,name,level,scope,domains\nNEW-H,New group,1,hospital,LAB\n"
        "FELLES,Laboratory group,2,joint,MED\n"
    )
    (folder / "organizations.csv").write_text("code,name,kind\nMOL,Molde sjukehus,hospital\n")
    code = cli.main(["import", "all", str(folder), "--db", str(db_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{folder / 'forums.csv'}:3:name: name 'Laboratory group' is taken by forum LAB-H" in (
        captured.err
    )
    assert "UNIQUE" not in captured.err + captured.out
    assert "forums, CSV" in captured.out
    forums_line = next(line for line in captured.out.splitlines() if "forums.csv:" in line)
    assert "1 rejected" in forums_line


def test_a_file_the_database_refuses_whole_says_so_in_the_imports_words(programme, monkeypatch):
    from decisions.io import apply

    def clash(self, rows, table):  # a rule no row check catches: the database's own
        return None

    monkeypatch.setattr(apply.Applier, "_names_free", clash)
    text = "code,name,level,scope,domains\nNEW-H,Laboratory group,1,hospital,LAB\n"
    result = transfer_io.import_sources(
        programme, [transfer_io.Source("forums.csv", text.encode(), "forums")], SYSTEM_ACTOR
    )
    assert [(e.file, e.row) for e in result.errors] == [("forums.csv", 0)]
    assert "UNIQUE" not in result.errors[0].message
    assert result.files[0].counts["rejected"] == 1
    assert result.files[0].counts["new"] == 0


def test_a_criterion_added_without_a_waiver_records_no_waiver_removed(programme):
    app, _row = criterion()
    app(programme, load(programme, "mona@hemit.no"), "")
    actions = [e["action"] for e in store.rows(
        programme, "SELECT action FROM events WHERE entity_key = 'W1:X1'")]  # fmt: skip
    assert actions == ["created"]
