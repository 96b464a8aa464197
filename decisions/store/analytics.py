"""Bulk loads for readiness, history, backlog and the plan: one query per table into a
DataFrame (no per-decision queries), plus the few writes of the planning use cases.

Evidence dates are normalised here to 'YYYY-MM-DDTHH:MM:SS' (a bare date is its midnight), so
that later code compares plain strings."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable

import numpy as np
import pandas as pd

from decisions.store import one, rules, scalar, write


def _day(column: str) -> str:
    """SQL for the day number (Python's date.toordinal) of a date or timestamp column."""
    return f"CAST(julianday(substr({column}, 1, 10)) - 1721424.5 AS INTEGER)"


def _column(values: np.ndarray) -> pd.Series:
    """One column of a result: int64 when all are integers, float64 when all are numbers or
    NULL (NULL as NaN), else plain objects. (Strings stay Python strings: pandas' Arrow-backed
    strings cost a conversion each way and are slow in isin and row lookups.)"""
    kinds = set(map(type, values))
    if kinds and kinds <= {int}:
        return pd.Series(values.astype(np.int64))
    if kinds & {int, float} and kinds <= {int, float, type(None)}:
        return pd.Series(values.astype(np.float64))
    return pd.Series(values, dtype=object, copy=False)


def _frame(conn: sqlite3.Connection, sql: str, params: tuple | dict = ()) -> pd.DataFrame:
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: a sqlite3.Row per row costs a conversion each
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    table = np.empty((0, len(names)), dtype=object)
    if rows := cursor.fetchall():
        table = np.empty((len(rows), len(names)), dtype=object)
        table[:] = rows
    return pd.DataFrame({name: _column(table[:, i]) for i, name in enumerate(names)})


# Every decision's stage events ('created' and 'stage'), each decision's in the order they
# happened. (+e.entity: use the index on action and time, not the one on entity.)
_STAGE_EVENTS = """
        FROM events e
        WHERE e.action IN ('created', 'stage') AND +e.entity = 'decision' {after}
        ORDER BY e.entity_key, e.at, e.id"""

# Only what the metrics need, by key and with day numbers; the records behind a number get
# their details on demand. Plain scans in index order: the joins happen in pandas (by key, in
# history.prepare), so that a caller that needs no wave scope or approvals skips their reads.
READINESS_QUERIES: dict[str, str] = {
    "decisions": """
        SELECT key, criticality = 'critical' AS critical, stage, module, all_organizations, """
    + _day("needed_by")
    + """ AS needed_day, """
    + _day("created_at")
    + """ AS created_day
        FROM decisions""",
    # A bit mask of the waves (bit i: the i-th wave by code) the decision's organisations go
    # live in. (CROSS JOIN: walk decision_organizations by its covering primary key.)
    "decision_waves": """
        SELECT x.decision AS key, sum(DISTINCT o.bit) AS waves
        FROM decision_organizations x CROSS JOIN (
            SELECT wo.organization, 1 << b.bit AS bit FROM wave_organizations wo
            JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS bit FROM waves) b
                ON b.code = wo.wave
        ) o ON o.organization = x.organization
        GROUP BY x.decision""",
    # Each decision's first approving verdict.
    "first_approvals": """
        SELECT decision AS key, """
    + _day("min(date)")
    + """ AS day FROM approvals WHERE verdict = 'approve' GROUP BY decision""",
    "waves": "SELECT code, name, go_live, row_version FROM waves ORDER BY go_live, code",
    # The stage events after :since (a timestamp).
    "stage_events": """
        SELECT e.entity_key AS key, e.at, """
    + _day("e.at")
    + """ AS day, e.from_value AS from_stage, e.to_value AS stage, e.id"""
    + _STAGE_EVENTS.format(after="AND e.at > :since"),
    # Each test case's creation: a seek in events(entity, entity_key, action, at) per case.
    "test_cases": """
        SELECT tc.key, """
    + _day(
        """(SELECT min(e.at) FROM events e WHERE e.entity = 'test_case'
                AND e.entity_key = tc.key AND e.action = 'created')"""
    )
    + """ AS created_day
        FROM test_cases tc""",
    "coverage": "SELECT test_case, decision FROM test_case_decisions",
    # Each test case's runs in the order they happened, from the covering index alone.
    "test_runs": """
        SELECT test_case, """
    + _day("date")
    + """ AS day, CASE result WHEN 'passed' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END AS code
        FROM test_runs ORDER BY test_case, date, id""",
    "defects": """
        SELECT key, severity_vendor, severity_clinical, status, decision, test_case, """
    + _day("opened")
    + """ AS opened_day, """
    + _day("closed")
    + """ AS closed_day
        FROM defects""",
    # The first held demo of each module, the first approving verdict on each decision.
    "first_demos": """
        SELECT module, """
    + _day("min(date)")
    + """ AS day FROM demos WHERE held = 1 GROUP BY module""",
    "modules": "SELECT code, name FROM modules",
    # The grant of the waiver in force: the first 'waived' event of the criterion since its last
    # 'waiver_removed' (extending a waiver keeps its grant). `waived_at` and `waived_by` are
    # when and by whom, both from that one event.
    "criteria": """
        SELECT c.wave, c.code, c.name, c.kind, c.metric, c.comparator, c.threshold, c.owner,
               c.waiver_reason, c.waiver_until, c.row_version,
               grant_.at AS waived_at, grant_.actor AS waived_by
        FROM criteria c
        LEFT JOIN events grant_ ON c.waiver_reason <> '' AND grant_.id = (
            SELECT w.id FROM events w
            WHERE w.entity = 'criterion' AND w.entity_key = c.wave || ':' || c.code
              AND w.action = 'waived' AND w.id > coalesce((
                  SELECT max(r.id) FROM events r
                  WHERE r.entity = 'criterion' AND r.entity_key = w.entity_key
                    AND r.action = 'waiver_removed'), 0)
            ORDER BY w.id LIMIT 1)
        ORDER BY c.wave, c.rowid""",
    "measurements": """
        SELECT id, wave, criterion, """
    + rules.norm_time("date")
    + """ AS date, """
    + _day("date")
    + """ AS day, value, reported_by, evidence_url
        FROM measurements ORDER BY wave, criterion, 4, id""",
}

BACKLOG_QUERIES: dict[str, str] = {
    # `stage_since`: when the decision reached the stage it was in at :until (a timestamp).
    "decisions": """
        SELECT d.key, d.title, d.domain, d.forum, d.criticality, d.needed_by, d.owner,
               d.created_at, (
                   SELECT max(e.at) FROM events e WHERE e.entity = 'decision'
                   AND e.entity_key = d.key AND e.action IN ('created', 'stage')
                   AND e.at <= :until
               ) AS stage_since
        FROM decisions d""",
    "escalations": """
        SELECT entity_key AS key, at, from_value AS from_forum, to_value AS to_forum, id
        FROM events WHERE +entity = 'decision' AND action = 'escalated'
        ORDER BY entity_key, at, id""",
    # All of them, with only what time per stage needs.
    "stage_history": "SELECT e.entity_key AS key, e.at, e.to_value AS stage"
    + _STAGE_EVENTS.format(after=""),
    "forums": "SELECT code, name, level, scope FROM forums",
    "domains": "SELECT code, name FROM domains",
    "experts": """
        SELECT email, name, organization, allocation_pct, active FROM experts ORDER BY name""",
    "expert_domains": "SELECT expert, domain FROM expert_domains",
    "forum_members": "SELECT forum, expert FROM forum_members",
    "expert_roles": "SELECT expert, role FROM expert_roles",
    "demo_invitees": """
        SELECT i.demo, i.expert FROM demo_invitees i JOIN demos d ON d.key = i.demo
        WHERE d.held = 0 AND d.cancelled = 0""",
    # What each person did lately: the events they authored, with when.
    "actor_events": "SELECT actor, at FROM events WHERE at >= :since",
    "approvals": "SELECT DISTINCT expert, decision FROM approvals",
}


def load_readiness_tables(
    conn: sqlite3.Connection, since: dt.date | None = None, only: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Everything readiness and history need, one query per table; the stage events only
    after the day `since` (all of them when None). With `only`, the other tables come empty
    (with their columns: history.prepare needs every table)."""
    after = "" if since is None else f"{since.isoformat()}T23:59:59"
    wanted = set(READINESS_QUERIES if only is None else only)
    return {
        name: _frame(
            conn,
            sql if name in wanted else f"SELECT * FROM ({sql}) LIMIT 0",
            {"since": after} if ":since" in sql else (),
        )
        for name, sql in READINESS_QUERIES.items()
    }


def load_backlog_tables(
    conn: sqlite3.Connection,
    names: Iterable[str] | None = None,
    since: str = "",
    until: str = "9999",
) -> dict[str, pd.DataFrame]:
    """The backlog analytics' tables beyond the readiness ones (all, or those named). `since`
    (a timestamp) bounds the recent activity read from the event log; `until` dates each
    decision's stage as it stood then."""
    params = {"since": since, "until": until}
    return {
        name: _frame(conn, BACKLOG_QUERIES[name], params)
        for name in (BACKLOG_QUERIES if names is None else names)
    }


DETAIL_QUERIES = {
    "decisions": """
        SELECT key, title, criticality, domain, module, forum, needed_by, owner
        FROM decisions WHERE key IN (SELECT value FROM json_each(:keys))""",
    "test_cases": """
        SELECT tc.key, tc.title, tc.kind,
               (SELECT group_concat(decision, ';') FROM test_case_decisions x
                WHERE x.test_case = tc.key) AS decisions
        FROM test_cases tc WHERE tc.key IN (SELECT value FROM json_each(:keys))""",
    "defects": """
        SELECT key, title, severity_vendor, severity_clinical, status, decision, test_case,
               opened, closed
        FROM defects WHERE key IN (SELECT value FROM json_each(:keys))""",
}


def details(conn: sqlite3.Connection, kind: str, keys: list) -> pd.DataFrame:
    """The display columns of the given decisions, test_cases or defects."""
    return _frame(conn, DETAIL_QUERIES[kind], {"keys": json.dumps([str(k) for k in keys])})


def organizations(conn: sqlite3.Connection) -> pd.DataFrame:
    return _frame(
        conn,
        """
        SELECT o.code, o.name, o.kind,
               (SELECT group_concat(wave, ';') FROM wave_organizations w
                WHERE w.organization = o.code) AS waves
        FROM organizations o ORDER BY o.kind, o.name""",
    )


def waves(conn: sqlite3.Connection) -> pd.DataFrame:
    return _frame(
        conn,
        """
        SELECT w.code, w.name, w.go_live, w.row_version,
               (SELECT group_concat(organization, ';') FROM wave_organizations o
                WHERE o.wave = w.code) AS organizations
        FROM waves w ORDER BY w.go_live, w.code""",
    )


def wave_replans(conn: sqlite3.Connection) -> pd.DataFrame:
    return _frame(
        conn,
        """
        SELECT r.wave, r.old_go_live, r.new_go_live, r.reason, r.replanned_by,
               coalesce(e.name, r.replanned_by) AS replanned_by_name, r.replanned_at
        FROM wave_replans r LEFT JOIN experts e ON e.email = r.replanned_by
        ORDER BY r.wave, r.replanned_at, r.id""",
    )


# Planning writes ---------------------------------------------------------------------------


def get_wave(conn: sqlite3.Connection, code: str) -> dict | None:
    return one(conn, "SELECT * FROM waves WHERE code = ?", (code,))


def replan_wave(
    conn: sqlite3.Connection, code: str, go_live: str, expected_row_version: int | None
) -> bool:
    """Move the wave's go-live date; False when the row version did not match."""
    return write.update_versioned(
        conn, "waves", {"code": code}, {"go_live": go_live}, expected_row_version
    )


def insert_replan(conn: sqlite3.Connection, replan: dict) -> None:
    write.insert_one(conn, "wave_replans", replan)


def has_criteria(conn: sqlite3.Connection, wave: str) -> bool:
    """Whether the wave has criteria of its own stored (none: the default set applies)."""
    return bool(scalar(conn, "SELECT EXISTS (SELECT 1 FROM criteria WHERE wave = ?)", (wave,)))


def get_criterion(conn: sqlite3.Connection, wave: str, code: str) -> dict | None:
    return one(conn, "SELECT * FROM criteria WHERE wave = ? AND code = ?", (wave, code))


def insert_criterion(conn: sqlite3.Connection, criterion: dict) -> None:
    write.insert_one(conn, "criteria", criterion)


def update_criterion(
    conn: sqlite3.Connection,
    wave: str,
    code: str,
    changes: dict,
    expected_row_version: int | None,
) -> bool:
    where = {"wave": wave, "code": code}
    return write.update_versioned(conn, "criteria", where, changes, expected_row_version)


def insert_measurement(conn: sqlite3.Connection, measurement: dict) -> int:
    return write.insert_one(conn, "measurements", measurement)


def data_marker(conn: sqlite3.Connection) -> str:
    """Changes whenever the programme does (every change appends an event): a cache key."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    last = conn.execute("SELECT max(id) FROM events").fetchone()[0]
    return f"{path}#{last or 0}"
