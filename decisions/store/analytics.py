"""Bulk loads for readiness, history, backlog and the plan: one query per table into a
DataFrame (no per-decision queries), plus the few writes of the planning use cases.

Evidence dates are normalised here to 'YYYY-MM-DDTHH:MM:SS' (a bare date is its midnight), so
that later code compares plain strings."""

from __future__ import annotations

import sqlite3

import pandas as pd

from decisions.store import one


def _norm(column: str) -> str:
    """SQL for workflow.norm_time on a column."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN length({column}) = 10 "
        f"THEN {column} || 'T00:00:00' ELSE substr(replace({column}, ' ', 'T'), 1, 19) END"
    )


def _frame(conn: sqlite3.Connection, sql: str, params: tuple | dict = ()) -> pd.DataFrame:
    return pd.read_sql_query(sql, conn, params=params)


READINESS_QUERIES: dict[str, str] = {
    "decisions": """
        SELECT key, title, domain, module, forum, scope, all_organizations, criticality, stage,
               needed_by, owner, created_at, stage_since
        FROM decisions""",
    "decision_organizations": "SELECT decision, organization FROM decision_organizations",
    "waves": "SELECT code, name, go_live, row_version FROM waves ORDER BY go_live, code",
    "wave_organizations": "SELECT wave, organization FROM wave_organizations",
    # Stage events in the order they happened: the programme's history of stages.
    "stage_events": """
        SELECT entity_key AS key, at, to_value AS stage, id FROM events
        WHERE entity = 'decision' AND action IN ('created', 'stage')
        ORDER BY at, id""",
    "test_cases": """
        SELECT tc.key, tc.title, tc.kind, min(ev.at) AS created
        FROM test_cases tc
        LEFT JOIN events ev ON ev.entity = 'test_case' AND ev.entity_key = tc.key
             AND ev.action = 'created'
        GROUP BY tc.key""",
    "coverage": "SELECT test_case, decision FROM test_case_decisions",
    "test_runs": f"""
        SELECT id, test_case, {_norm("date")} AS date, result, defect FROM test_runs
        ORDER BY 2, 1""",
    "defects": f"""
        SELECT key, title, severity_vendor, severity_clinical, status, decision, test_case,
               {_norm("opened")} AS opened, {_norm("closed")} AS closed
        FROM defects""",
    "demos": f"SELECT key, {_norm('date')} AS date, module, held FROM demos",
    "approvals": f"""
        SELECT id, decision, expert, verdict, {_norm("date")} AS date FROM approvals""",
    "modules": "SELECT code, name, domain FROM modules",
    "criteria": """
        SELECT wave, code, name, kind, metric, comparator, threshold, owner, waiver_reason,
               waiver_until, row_version
        FROM criteria ORDER BY wave, rowid""",
    "measurements": f"""
        SELECT id, wave, criterion, {_norm("date")} AS date, value, reported_by, evidence_url
        FROM measurements ORDER BY wave, criterion, 4, id""",
}

BACKLOG_QUERIES: dict[str, str] = {
    "escalations": """
        SELECT entity_key AS key, at, from_value AS from_forum, to_value AS to_forum, id
        FROM events WHERE entity = 'decision' AND action = 'escalated' ORDER BY at, id""",
    "forums": "SELECT code, name, level, scope FROM forums",
    "domains": "SELECT code, name FROM domains",
    "experts": """
        SELECT email, name, organization, allocation_pct, active FROM experts ORDER BY name""",
    "expert_domains": "SELECT expert, domain FROM expert_domains",
    "forum_members": "SELECT forum, expert FROM forum_members",
    "expert_roles": "SELECT expert, role FROM expert_roles",
    "demo_invitees": """
        SELECT i.demo, i.expert FROM demo_invitees i JOIN demos d ON d.key = i.demo
        WHERE d.held = 0""",
    # What each person did lately: the events they authored, with when.
    "actor_events": "SELECT actor, at FROM events WHERE at >= :since",
}


def load_readiness_tables(conn: sqlite3.Connection) -> dict[str, pd.DataFrame]:
    """Everything readiness and history need, one query per table."""
    return {name: _frame(conn, sql) for name, sql in READINESS_QUERIES.items()}


def load_backlog_tables(conn: sqlite3.Connection, since: str) -> dict[str, pd.DataFrame]:
    """Everything the backlog analytics need beyond the readiness tables; `since` bounds the
    recent activity read from the event log."""
    return {
        name: _frame(conn, sql, {"since": since} if ":since" in sql else ())
        for name, sql in BACKLOG_QUERIES.items()
    }


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
    sql = "UPDATE waves SET go_live = ?, row_version = row_version + 1 WHERE code = ?"
    params: list = [go_live, code]
    if expected_row_version is not None:
        sql += " AND row_version = ?"
        params.append(expected_row_version)
    return conn.execute(sql, params).rowcount == 1


def insert_replan(conn: sqlite3.Connection, replan: dict) -> None:
    conn.execute(
        "INSERT INTO wave_replans (wave, old_go_live, new_go_live, reason, replanned_by, "
        "replanned_at) VALUES (:wave, :old_go_live, :new_go_live, :reason, :replanned_by, "
        ":replanned_at)",
        replan,
    )


def get_criterion(conn: sqlite3.Connection, wave: str, code: str) -> dict | None:
    return one(conn, "SELECT * FROM criteria WHERE wave = ? AND code = ?", (wave, code))


def insert_criterion(conn: sqlite3.Connection, criterion: dict) -> None:
    columns = list(criterion)
    conn.execute(
        f"INSERT INTO criteria ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [criterion[c] for c in columns],
    )


def update_criterion(
    conn: sqlite3.Connection,
    wave: str,
    code: str,
    changes: dict,
    expected_row_version: int | None,
) -> bool:
    assignments = "".join(f"{c} = ?, " for c in changes)
    sql = f"UPDATE criteria SET {assignments}row_version = row_version + 1 WHERE wave = ? AND code = ?"
    params = [*changes.values(), wave, code]
    if expected_row_version is not None:
        sql += " AND row_version = ?"
        params.append(expected_row_version)
    return conn.execute(sql, params).rowcount == 1


def insert_measurement(conn: sqlite3.Connection, measurement: dict) -> int:
    cursor = conn.execute(
        "INSERT INTO measurements (wave, criterion, date, value, reported_by, evidence_url) "
        "VALUES (:wave, :criterion, :date, :value, :reported_by, :evidence_url)",
        measurement,
    )
    return cursor.lastrowid


def measurement_history(conn: sqlite3.Connection, wave: str, criterion: str) -> pd.DataFrame:
    return _frame(
        conn,
        """
        SELECT m.date, m.value, m.reported_by, coalesce(e.name, m.reported_by) AS reported_by_name,
               m.evidence_url
        FROM measurements m LEFT JOIN experts e ON e.email = m.reported_by
        WHERE m.wave = ? AND m.criterion = ? ORDER BY m.date DESC, m.id DESC""",
        (wave, criterion),
    )


def data_marker(conn: sqlite3.Connection) -> str:
    """Changes whenever the programme does (every change appends an event): a cache key."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    last = conn.execute("SELECT max(id) FROM events").fetchone()[0]
    return f"{path}#{last or 0}"
