"""The check command: integrity, foreign keys, the event log, and stored stages against the
evidence and the log; `python -m decisions check` exits 1 on any finding, 0 on none."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from decisions import services, store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def history(programme, decision_at):
    """key of a decision at each of a few stages."""
    return {stage: decision_at(stage) for stage in ("proposed", "built", "approved", "ready")}


def raw(conn) -> sqlite3.Connection:
    """A second connection to the same file, foreign keys off, triggers as they are."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA foreign_keys = OFF")
    return other


def run_check(conn) -> subprocess.CompletedProcess:
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    return subprocess.run(
        [sys.executable, "-m", "decisions", "check", "--db", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_clean_programme_passes(programme, history):
    assert services.check(programme) == []
    done = run_check(programme)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip().endswith(": ok")


@pytest.mark.parametrize(
    ("stage", "stored", "derived"),
    [
        ("built", "approved", "built"),
        ("approved", "ready", "approved"),
        ("ready", "in_test", "ready"),
    ],
)
def test_a_stored_stage_the_evidence_does_not_give_is_reported(
    programme, history, stage, stored, derived
):
    key = history[stage]
    raw(programme).execute("UPDATE decisions SET stage = ? WHERE key = ?", (stored, key))
    [record, *rest] = services.check(programme)
    assert record.startswith(f"records: decisions key {key} differs from the record its latest")
    assert rest == [
        f"stage: {key} is stored as {stored}, the evidence says {derived}",
        f"history: {key} is stored as {stored}, its events say {stage}",
    ]


def test_a_rule_changed_behind_the_services_back_is_reported(programme, history):
    raw(programme).execute("INSERT OR REPLACE INTO settings VALUES ('approval.min_approvers', '3')")
    key = history["approved"]
    assert f"stage: {key} is stored as approved, the evidence says demonstrated" in (
        services.check(programme)
    )


@pytest.mark.parametrize(
    ("sql", "table", "parent"),
    [
        ("INSERT INTO approvals (decision, expert, verdict, date) "
         "VALUES ('NOPE-0001', 'hanne@stolav.no', 'approve', '2022-09-15')", "approvals",
         "decisions"),
        ("INSERT INTO approvals (decision, expert, verdict, date) "
         "VALUES ('{key}', 'ghost@nowhere.no', 'approve', '2022-09-15')", "approvals", "experts"),
        ("INSERT INTO decision_organizations VALUES ('{key}', 'XXX')", "decision_organizations",
         "organizations"),
        ("UPDATE decisions SET module = 'GONE' WHERE key = '{key}'", "decisions", "modules"),
        ("DELETE FROM test_cases", "test_case_decisions", "test_cases"),
    ],
)  # fmt: skip
def test_a_foreign_key_violation_is_reported(programme, history, sql, table, parent):
    raw(programme).execute(sql.format(key=history["proposed"]))
    findings = services.check(programme)
    assert any(f.startswith(f"foreign key: {table} row ") and f.endswith(f"missing {parent}")
               for f in findings), findings  # fmt: skip


def test_the_command_exits_1_and_names_each_finding(programme, history):
    tamper = raw(programme)
    tamper.execute("UPDATE decisions SET stage = 'tested' WHERE key = ?", (history["approved"],))
    tamper.execute("INSERT INTO decision_organizations VALUES (?, 'XXX')", (history["built"],))
    tamper.execute("DROP TRIGGER events_no_update")
    tamper.execute("UPDATE events SET actor = 'someone@else.no' WHERE id = 3")
    done = run_check(programme)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    path = str(store.database_path(programme.execute("PRAGMA database_list").fetchone()[2]))
    assert all(line.startswith(f"{path}: ") for line in lines)
    for expected in (
        f"stage: {history['approved']} is stored as tested",
        "foreign key: decision_organizations row",
        "event log: event 3 does not match its hash",
    ):
        assert any(expected in line for line in lines), (expected, lines)
    assert "ok" not in done.stdout
