"""Each workflow rule is written once in Python (decisions/workflow.py); where a query must
restate it in SQL for speed, the restatement is written once too (decisions/store/rules.py).
These tests hold the two to the same answers over the demo programme and over edge cases."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from decisions import backlog, demo, history, readiness, settings, store, words
from decisions.model import (
    ORGANIZATION_KINDS,
    ApprovalRule,
    DecisionFacts,
    RunFact,
    VerdictFact,
    WorkflowError,
)
from decisions.store import analytics, rules, write
from decisions.store import decisions as decision_store
from decisions.store import screen_queries as view_store
from decisions.workflow import (
    NO_DATE,
    counts_from,
    explain_stage,
    in_wave_scope,
    is_overdue,
    latest_runs,
    latest_verdicts,
    missing_evidence,
    round_verdicts,
    side_of,
    step_changes,
)

STORE = Path(__file__).resolve().parents[1] / "decisions" / "store"


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    conn = store.connect(tmp_path_factory.mktemp("demo") / "demo.db")
    demo.build_demo(conn, scale=1)
    yield conn
    conn.close()


@pytest.fixture
def memory():
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


# Edge cases, no programme needed ----------------------------------------------------------


@pytest.mark.parametrize(
    "date, start",
    [
        ("2022-09-15", None),
        ("2022-09-15", "2022-09-15"),
        ("2022-09-15", "2022-09-15T00:00:01"),
        ("2022-09-15T10:00:00", "2022-09-15"),
        ("2022-09-15 10:00:00", "2022-09-15T10:00:00"),
        ("2022-09-15 09:59:59", "2022-09-15T10:00:00"),
        ("2022-09-15T10:00:00.123456", "2022-09-15T10:00:00"),
        ("2022-09-14T23:59:59", "2022-09-15"),
    ],
)
def test_the_round_rule_in_sql_is_the_python_rule(memory, date, start):
    sql = f"SELECT {rules.counts_from(':date', ':start')}"
    in_sql = memory.execute(sql, {"date": date, "start": start}).fetchone()[0]
    assert bool(in_sql) == counts_from(date, start)


@pytest.mark.parametrize("kind", ORGANIZATION_KINDS)
def test_the_side_in_sql_is_the_side_of_the_kind(memory, kind):
    assert memory.execute(f"SELECT {rules.side_of('?')}", (kind,)).fetchone()[0] == side_of(kind)


@pytest.mark.parametrize(
    "stage, needed_by, today",
    [
        ("proposed", "2022-09-14", "2022-09-15"),
        ("proposed", "2022-09-15", "2022-09-15"),
        ("proposed", "2022-09-14T23:00:00", "2022-09-15"),
        ("proposed", "2022-09-15T08:00:00", "2022-09-15"),
        ("proposed", None, "2022-09-15"),
        ("proposed", "", "2022-09-15"),
        ("decided", "2022-01-01", "2022-09-15"),
    ],
)
def test_overdue_in_sql_is_the_python_rule(memory, stage, needed_by, today):
    memory.execute("CREATE TABLE decisions (stage TEXT, needed_by TEXT)")
    memory.execute("INSERT INTO decisions VALUES (?, ?)", (stage, needed_by))
    sql = f"SELECT coalesce({rules.is_overdue('d', ':today')}, 0) FROM decisions d"
    in_sql = memory.execute(sql, {"today": today}).fetchone()[0]
    assert bool(in_sql) == bool(is_overdue(stage, (needed_by or NO_DATE)[:10] or NO_DATE, today))


def test_the_missing_evidence_names_the_failing_test_case():
    facts = DecisionFacts(
        base_stage="built",
        built_at="2022-09-01",
        runs_by_case={
            "TC-1": (RunFact("2022-09-02", "failed", 1), RunFact("2022-09-03", "passed", 2)),
            "TC-2": (RunFact("2022-09-02", "passed", 3), RunFact("2022-09-04", "blocked", 4)),
            "TC-3": (RunFact("2022-08-01", "passed", 5),),  # an earlier round: never run now
        },
    )
    missing = missing_evidence("in_test", facts, ApprovalRule())
    assert missing == (("not_passed", (("TC-2", "blocked"), ("TC-3", None))),)
    assert words.missing_text(missing) == (
        "the latest run of these test cases did not pass: TC-2 (blocked), TC-3 (never run)"
    )
    assert explain_stage("ready", "in_test", facts, ApprovalRule()) == missing
    assert words.stage_explanation_text("ready", "in_test", missing).startswith(
        "stage ready needs evidence that is missing (it is in_test)"
    )
    back = explain_stage("built", "in_test", facts, ApprovalRule())
    assert back == (("no_going_back", None),)
    assert "does not remove evidence" in words.stage_explanation_text("built", "in_test", back)


def test_only_the_current_rounds_verdicts_count_towards_the_rule():
    verdicts = (
        VerdictFact("a@x", "approve", "2022-08-01", "hospital", True, 1),
        VerdictFact("b@x", "approve", "2022-09-02", "hospital", True, 2),
    )
    facts = DecisionFacts(base_stage="built", built_at="2022-09-01", verdicts=verdicts)
    assert round_verdicts(facts) == [verdicts[1]]
    assert missing_evidence("demonstrated", facts, ApprovalRule()) == (("approvers", 1),)


# SQL against Python over the demo programme ---------------------------------------------


def test_the_latest_verdict_in_sql_is_the_python_rule(conn):
    facts = decision_store.decision_facts(conn)
    pairs = conn.execute(
        f"""SELECT a.decision, a.expert, {rules.latest_verdict("a.decision", "a.expert", "d.built_at")}
            FROM (SELECT DISTINCT decision, expert FROM approvals) a
            JOIN decisions d ON d.key = a.decision"""
    ).fetchall()
    assert len(pairs) > 1000
    for key, expert, in_sql in pairs:
        latest = latest_verdicts(round_verdicts(facts[key])).get(expert)
        assert in_sql == (latest.verdict if latest else None), (key, expert)


def test_the_latest_run_in_sql_is_the_python_rule(conn):
    runs = defaultdict(list)
    for case, date, result, run_id in conn.execute(
        "SELECT test_case, date, result, id FROM test_runs"
    ):
        runs[case].append(RunFact(date, result, run_id))
    everything = DecisionFacts("built", runs_by_case={c: tuple(r) for c, r in runs.items()})
    python = {case: run.seq for case, run in latest_runs(everything).items()}
    in_sql = dict(
        conn.execute(
            f"SELECT tc.key, {rules.latest_run_id('tc.key')} FROM test_cases tc "
            "WHERE EXISTS (SELECT 1 FROM test_runs r WHERE r.test_case = tc.key)"
        ).fetchall()
    )
    assert len(in_sql) > 500
    assert in_sql == python


def test_the_wave_scope_in_sql_is_the_python_rule(conn):
    organizations = defaultdict(set)
    for key, org in conn.execute("SELECT decision, organization FROM decision_organizations"):
        organizations[key].add(org)
    everywhere = dict(conn.execute("SELECT key, all_organizations FROM decisions").fetchall())
    for (wave,) in conn.execute("SELECT code FROM waves").fetchall():
        goes_live = {r[0] for r in conn.execute(
            "SELECT organization FROM wave_organizations WHERE wave = ?", (wave,)
        )}  # fmt: skip
        python = {
            key for key, every in everywhere.items()
            if in_wave_scope(every, bool(organizations[key] & goes_live))
        }  # fmt: skip
        sql = f"SELECT d.key FROM decisions d WHERE {rules.in_wave_scope('d', '(?)')}"
        assert {r[0] for r in conn.execute(sql, (wave,))} == python
        assert 0 < len(python) < len(everywhere)


@pytest.mark.parametrize("today", [demo.CLOCK, "2022-08-15", "2023-01-01"])
def test_overdue_in_sql_is_the_backlogs_rule_on_the_demo(conn, today):
    decisions = pd.read_sql_query("SELECT * FROM decisions", conn)
    python = backlog.overdue(decisions, dt.date.fromisoformat(today))
    in_sql = view_store.overdue_proposals(conn, today, limit=10_000)
    assert view_store.count_overdue_proposals(conn, today) == len(python) > 0
    assert dict(zip(in_sql["key"], in_sql["days_overdue"], strict=True)) == dict(
        zip(python["key"], python["days_overdue"], strict=True)
    )


def test_the_side_of_every_verdict_is_the_side_of_its_experts_organisation(conn):
    kinds = dict(
        conn.execute(
            "SELECT e.email, o.kind FROM experts e JOIN organizations o ON o.code = e.organization"
        ).fetchall()
    )
    for facts in decision_store.decision_facts(conn).values():
        for v in facts.verdicts:
            assert v.side == side_of(kinds[v.expert])


# Written once --------------------------------------------------------------------------------

RESTATEMENTS = {
    "the round's time format": r"T00:00:00",
    "the side of an organisation": r"WHEN 'hospital'",
    "the wave scope": r"all_organizations\s*=\s*1",
    "overdue": r"needed_by\s*<",
}


@pytest.mark.parametrize("rule", RESTATEMENTS)
def test_no_query_restates_a_rule_outside_the_rules_module(rule):
    spelled = [
        path.name
        for path in sorted(STORE.glob("*.py"))
        if path.name != "rules.py" and re.search(RESTATEMENTS[rule], path.read_text())
    ]
    assert spelled == []


# Settings declared once ---------------------------------------------------------------------


def test_every_setting_the_demo_writes_is_declared(conn):
    assert set(store.get_settings(conn)) <= set(settings.BY_NAME)
    assert settings.get(conn, settings.CLOCK) == demo.CLOCK
    assert settings.approval_rule(conn) == ApprovalRule()


def test_an_undeclared_setting_is_refused(fresh_db):
    with store.transaction(fresh_db), pytest.raises(WorkflowError, match="no setting 'clok'"):
        settings.put(fresh_db, "clok", "2022-09-15")


def test_a_setting_not_stored_reads_as_its_default(fresh_db):
    assert settings.get(fresh_db, settings.MIN_APPROVERS) == ApprovalRule().min_approvers
    assert settings.approval_rule(fresh_db) == ApprovalRule()


def test_the_approval_rule_settings_cover_every_field_of_the_rule():
    assert set(settings.APPROVAL_RULE) == set(ApprovalRule.__dataclass_fields__)


# One way to write ----------------------------------------------------------------------------


def test_an_imported_forum_takes_a_new_row_version_so_an_open_form_goes_stale(programme):
    before = store.one(programme, "SELECT * FROM forums WHERE code = 'MED-H'")
    with store.transaction(programme):
        write.upsert(programme, "forums", [{**before, "name": "Renamed"}], ("code",))
    after = store.one(programme, "SELECT * FROM forums WHERE code = 'MED-H'")
    assert (after["name"], after["row_version"]) == ("Renamed", before["row_version"] + 1)


def _without_temp_tables(text: str) -> str:
    """A module's text less the lines on temporary tables (a read's scratch space)."""
    return "\n".join(line for line in text.splitlines() if "temp." not in line)


@pytest.mark.parametrize("statement", ["INSERT INTO", "UPDATE ", "DELETE FROM"])
def test_only_the_writers_module_writes_rows(statement):
    writing = [
        path.name
        for path in sorted(STORE.glob("*.py"))
        if path.name not in ("write.py", "schema.py")
        and statement in _without_temp_tables(path.read_text())
    ]
    assert writing == []


# Steps by hand: one set of stage columns for the services and the demo ---------------------


@pytest.mark.parametrize(
    "action, expected",
    [
        ("decide", {"stage": "decided", "base_stage": "decided"}),
        ("start_build", {"stage": "in_build", "base_stage": "in_build", "built_at": None}),
        ("mark_built", {"stage": "built", "base_stage": "built", "built_at": "T"}),
        ("mark_ready", {"stage": "ready", "ready_at": "T"}),
        ("withdraw", {"stage": "withdrawn", "base_stage": "withdrawn"}),
        ("revise", {"stage": "decided", "base_stage": "decided", "built_at": None,
                    "ready_at": None, "version_started_at": "T"}),
    ],
)  # fmt: skip
def test_a_step_by_hand_writes_its_stage_and_the_marks_of_the_round(action, expected):
    assert step_changes(action, "T") == {**expected, "stage_since": "T"}


def test_a_verdict_is_no_step_by_hand():
    with pytest.raises(ValueError, match="request_changes is not a step taken by hand"):
        step_changes("request_changes", "T")


def test_the_readiness_wave_scope_is_the_queries_wave_scope(conn):
    programme = history.prepare(analytics.load_readiness_tables(conn))
    keys = programme.decisions["key"].to_numpy()
    for wave, in_scope in programme.scope.items():
        sql = f"SELECT d.key FROM decisions d WHERE {rules.in_wave_scope('d', '(?)')}"
        assert set(keys[in_scope]) == {r[0] for r in conn.execute(sql, (wave,))}, wave


def test_the_readiness_overdue_count_is_the_queries_overdue_count(conn):
    programme = history.prepare(analytics.load_readiness_tables(conn))
    sql = (
        "SELECT count(*) FROM decisions d "
        f"WHERE {rules.in_wave_scope('d', '(?)')} AND {rules.is_overdue('d', '?')}"
    )
    counts = {}
    for wave in programme.scope:
        snap = history.snapshot(programme, demo.CLOCK, wave)
        counts[wave] = readiness.overdue_proposed_count(snap)
        assert counts[wave] == conn.execute(sql, (wave, demo.CLOCK)).fetchone()[0], wave
    assert sum(counts.values()) > 0
