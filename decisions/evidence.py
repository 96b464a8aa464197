"""Use cases that record evidence: demos, expert verdicts, test cases, test runs, defects.
Each validates, writes, refreshes the stages of the decisions it touches and appends its
events in one transaction."""

from __future__ import annotations

import sqlite3

from decisions import store
from decisions.model import (
    DEFECT_STATUSES,
    RUN_RESULTS,
    TEST_KINDS,
    VERDICTS,
    Actor,
    NotFound,
    StaleRecord,
    WorkflowError,
)
from decisions.services import (
    MAX_TITLE,
    STALE_MESSAGE,
    choice_field,
    event,
    evidence_date,
    get_decision_or_fail,
    known_people,
    now,
    parse_date,
    refresh_stages,
    require_role,
    text_field,
)
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.workflow import check_action, norm_time

# ------------------------------------------------------------------------------------


def save_demo(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    module: str,
    date,
    decisions: list[str],
    presenter: str,
    invitees: list[str] = (),
    attendees: list[str] = (),
    notes: str = "",
    recording_url: str = "",
    key: str | None = None,
    row_version: int | None = None,
) -> str:
    """Schedule a demo (no attendees yet) or record one that was held (attendees given).
    A held demo moves the built decisions it showed to demonstrated. Returns its key."""
    require_role(actor, "analyst", "manager", "admin", doing="Recording a demo")
    with store.transaction(conn):
        if not store.scalar(conn, "SELECT 1 FROM modules WHERE code = ?", (module,)):
            raise WorkflowError(f"module {module!r} is not in the list of modules")
        if not decisions:
            raise WorkflowError("decisions: a demo shows at least one decision")
        for k in decisions:
            get_decision_or_fail(conn, k)
        presenter = known_people(conn, [presenter], "presenter")[0]
        invitees = known_people(conn, list(invitees), "invitees")
        attendees = known_people(conn, list(attendees), "attendees")
        held = bool(attendees)
        if held:
            when = evidence_date(conn, date, "date")
        else:
            when = parse_date(date, "date")
            if when is None:
                raise WorkflowError("date is required")
        if key is None:
            key = evidence_store.next_key(conn, "demos", "DEMO")
        existing = evidence_store.get_demo(conn, key)
        record = {
            "key": key,
            "date": when,
            "module": module,
            "presenter": presenter,
            "held": int(held),
            "notes": text_field(notes, "notes"),
            "recording_url": text_field(recording_url, "recording_url", limit=2000),
        }
        if not evidence_store.save_demo(conn, record, decisions, invitees, attendees, row_version):
            raise StaleRecord(STALE_MESSAGE.format(what=f"Demo {key}"))
        at = now(conn)
        action = "held" if held else "scheduled"
        events = [
            event(
                actor,
                at,
                "demo",
                key,
                action if not existing else f"updated:{action}",
                None,
                when,
                f"{len(attendees)} attended",
            )
        ]
        affected = set(decisions) | set(existing["decisions"] if existing else [])
        events += refresh_stages(conn, affected, actor, at, f"demo {key}")
        store.append_events(conn, events)
        return key


def record_verdict(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    verdict: str,
    *,
    comment: str = "",
    date=None,
    expert: str | None = None,
) -> str:
    """An expert's approve or changes_requested on a demonstrated decision. Returns the stage
    the decision is in afterwards."""
    choice_field(verdict, "verdict", VERDICTS)
    expert = (expert or actor.email).strip().lower()
    if expert != actor.email and not actor.has("admin"):
        raise WorkflowError("only an admin may record a verdict for someone else")
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        verdict_by = actor if expert == actor.email else decision_store.load_actor(conn, expert)
        if verdict_by is None:
            raise WorkflowError(f"expert {expert} is not in the directory")
        action = "approve" if verdict == "approve" else "request_changes"
        check_action(action, decision["stage"], verdict_by, domain=decision["domain"])
        comment = text_field(comment, "comment", required=verdict == "changes_requested")
        when = evidence_date(conn, date, "date")
        if decision["built_at"] and norm_time(when) < norm_time(decision["built_at"]):
            raise WorkflowError(
                f"date {when[:10]} is before this build round started ({decision['built_at'][:10]})"
            )
        approval_id = evidence_store.insert_approval(
            conn,
            {
                "decision": key,
                "expert": expert,
                "verdict": verdict,
                "date": when,
                "comment": comment,
            },
        )
        at = now(conn)
        events = [
            event(actor, at, "approval", str(approval_id), verdict, None, key, comment or None)
        ]
        events += refresh_stages(conn, [key], actor, at, f"{verdict} by {expert}")
        store.append_events(conn, events)
        return decision_store.get_decision(conn, key)["stage"]


def save_test_case(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    title: str,
    kind: str,
    decisions: list[str],
    key: str | None = None,
    row_version: int | None = None,
) -> str:
    require_role(actor, "tester", "analyst", "admin", doing="Recording a test case")
    with store.transaction(conn):
        record = {
            "title": text_field(title, "title", required=True, limit=MAX_TITLE),
            "kind": choice_field(kind, "kind", TEST_KINDS),
        }
        if not decisions:
            raise WorkflowError("decisions: a test case covers at least one decision")
        for k in decisions:
            get_decision_or_fail(conn, k)
        key = key or evidence_store.next_key(conn, "test_cases", "TC")
        existing = evidence_store.get_test_case(conn, key)
        if not evidence_store.save_test_case(conn, {"key": key, **record}, decisions, row_version):
            raise StaleRecord(STALE_MESSAGE.format(what=f"Test case {key}"))
        at = now(conn)
        events = [
            event(
                actor,
                at,
                "test_case",
                key,
                "updated" if existing else "created",
                None,
                ";".join(decisions),
                record["title"],
            )
        ]
        affected = set(decisions) | set(existing["decisions"] if existing else [])
        events += refresh_stages(conn, affected, actor, at, f"test case {key}")
        store.append_events(conn, events)
        return key


def record_test_run(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    test_case: str,
    result: str,
    date=None,
    tester: str | None = None,
    defect: str | None = None,
    notes: str = "",
) -> int:
    """A run of a test case; its result moves the decisions it covers. Returns the run id."""
    require_role(actor, "tester", "analyst", "admin", doing="Recording a test run")
    choice_field(result, "result", RUN_RESULTS)
    with store.transaction(conn):
        case = evidence_store.get_test_case(conn, test_case)
        if case is None:
            raise NotFound(f"no test case {test_case!r}")
        if not case["decisions"]:
            raise WorkflowError(f"test case {test_case} covers no decision; link one first")
        tester = known_people(conn, [tester or actor.email], "tester")[0]
        if defect and evidence_store.get_defect(conn, defect) is None:
            raise WorkflowError(f"defect {defect!r} does not exist")
        when = evidence_date(conn, date, "date")
        run_id = evidence_store.insert_test_run(
            conn,
            {
                "test_case": test_case,
                "date": when,
                "result": result,
                "tester": tester,
                "defect": defect or None,
                "notes": text_field(notes, "notes"),
            },
        )
        at = now(conn)
        events = [event(actor, at, "test_run", str(run_id), result, None, test_case, defect)]
        events += refresh_stages(
            conn, case["decisions"], actor, at, f"test run of {test_case}: {result}"
        )
        store.append_events(conn, events)
        return run_id


def save_defect(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    title: str,
    severity_vendor: int,
    severity_clinical: int,
    status: str = "open",
    decision: str | None = None,
    test_case: str | None = None,
    opened=None,
    closed=None,
    key: str | None = None,
    row_version: int | None = None,
) -> str:
    require_role(actor, "tester", "analyst", "manager", "admin", doing="Recording a defect")
    with store.transaction(conn):
        for name, value in (
            ("severity_vendor", severity_vendor),
            ("severity_clinical", severity_clinical),
        ):
            if int(value) not in (1, 2, 3, 4):
                raise WorkflowError(f"{name} must be 1, 2, 3 or 4, not {value!r}")
        if decision:
            get_decision_or_fail(conn, decision)
        if test_case and evidence_store.get_test_case(conn, test_case) is None:
            raise WorkflowError(f"test case {test_case!r} does not exist")
        key = key or evidence_store.next_key(conn, "defects", "DEF")
        existing = evidence_store.get_defect(conn, key)
        record = {
            "key": key,
            "title": text_field(title, "title", required=True, limit=MAX_TITLE),
            "severity_vendor": int(severity_vendor),
            "severity_clinical": int(severity_clinical),
            "status": choice_field(status, "status", DEFECT_STATUSES),
            "decision": decision or None,
            "test_case": test_case or None,
            "opened": parse_date(opened, "opened") or now(conn)[:10],
            "closed": parse_date(closed, "closed"),
        }
        if not evidence_store.save_defect(conn, record, row_version):
            raise StaleRecord(STALE_MESSAGE.format(what=f"Defect {key}"))
        at = now(conn)
        store.append_events(
            conn,
            [
                event(
                    actor,
                    at,
                    "defect",
                    key,
                    "updated" if existing else "opened",
                    existing["status"] if existing else None,
                    record["status"],
                    record["title"],
                )
            ],
        )
        return key
