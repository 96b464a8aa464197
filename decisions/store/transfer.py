"""Bulk reads for import, export and backup: every KIND as rows of the public file format, and
what references resolve against. The import writes through decisions.store.write."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from decisions.store import rows

_LIST = (
    "(SELECT group_concat({col}, ';') FROM (SELECT {col} FROM {table} WHERE {where} ORDER BY 1))"
)


def _list(col: str, table: str, where: str) -> str:
    return _LIST.format(col=col, table=table, where=where)


EXPORT_SQL: dict[str, str] = {
    "organizations": "SELECT code, name, kind FROM organizations ORDER BY code",
    "domains": "SELECT code, name FROM domains ORDER BY code",
    "forums": f"""
        SELECT code, name, level, scope, {_list("domain", "forum_domains", "forum = f.code")}
            AS domains
        FROM forums f ORDER BY code""",
    "modules": "SELECT code, name, domain FROM modules ORDER BY code",
    "waves": f"""
        SELECT code, name, go_live,
               {_list("organization", "wave_organizations", "wave = w.code")} AS organizations,
               NULL AS replan_reason
        FROM waves w ORDER BY code""",
    "experts": f"""
        SELECT email, name, organization,
               {_list("domain", "expert_domains", "expert = e.email")} AS domains,
               {_list("role", "expert_roles", "expert = e.email")} AS roles,
               allocation_pct, {_list("forum", "forum_members", "expert = e.email")} AS forums,
               CASE active WHEN 1 THEN 'yes' ELSE 'no' END AS active
        FROM experts e ORDER BY email""",
    "decisions": f"""
        SELECT key, title, domain, module, forum, scope,
               CASE WHEN all_organizations THEN 'ALL' ELSE
                   {_list("organization", "decision_organizations", "decision = d.key")}
               END AS organizations,
               criticality, stage, question, decision, rationale, decided_at,
               {_list("expert", "decision_deciders", "decision = d.key")} AS decided_by,
               needed_by, owner, version, version_started_at, built_at, ready_at,
               withdrawn_reason, stage_cap, stage_cap_since
        FROM decisions d ORDER BY key""",
    "demos": f"""
        SELECT key, date, module, {_list("decision", "demo_decisions", "demo = m.key")}
                   AS decisions,
               presenter, {_list("expert", "demo_attendees", "demo = m.key")} AS attendees,
               notes, recording_url,
               {_list("expert", "demo_invitees", "demo = m.key")} AS invitees,
               start_time, duration_min, place, meeting_url,
               CASE cancelled WHEN 1 THEN 'yes' ELSE 'no' END AS cancelled
        FROM demos m ORDER BY key""",
    "approvals": """
        SELECT decision, expert, verdict, date, comment FROM approvals
        ORDER BY decision, date, id""",
    "test-cases": f"""
        SELECT key, title, kind,
               {_list("decision", "test_case_decisions", "test_case = t.key")} AS decisions
        FROM test_cases t ORDER BY key""",
    "defects": """
        SELECT key, title, severity_vendor, severity_clinical, status, decision, test_case,
               opened, closed
        FROM defects ORDER BY key""",
    "test-runs": """
        SELECT test_case, date, result, tester, defect, notes FROM test_runs
        ORDER BY test_case, date, id""",
    "criteria": """
        SELECT wave, code, name, kind, metric, comparator, threshold, owner, waiver_reason,
               waiver_until
        FROM criteria ORDER BY wave, code""",
    "measurements": """
        SELECT wave, criterion, date, value, reported_by, evidence_url FROM measurements
        ORDER BY wave, criterion, date, id""",
}


def export_rows(conn: sqlite3.Connection, kind: str) -> list[dict]:
    """Every record of a KIND as a dict of the file's columns (lists joined with ';')."""
    return rows(conn, EXPORT_SQL[kind])


# What references resolve against -------------------------------------------------------------


def reference_codes(conn: sqlite3.Connection) -> dict:
    """The codes and names every reference is checked against, read in a few queries."""
    catalog: dict = {
        "organizations": {r[0]: r[1] for r in conn.execute("SELECT code, kind FROM organizations")},
        "domains": {r[0]: r[1] for r in conn.execute("SELECT code, name FROM domains")},
        "forums": {
            r[0]: {"name": r[1], "level": r[2], "scope": r[3]}
            for r in conn.execute("SELECT code, name, level, scope FROM forums")
        },
        "modules": {
            r[0]: {"name": r[1], "domain": r[2]}
            for r in conn.execute("SELECT code, name, domain FROM modules")
        },
        "waves": {r[0]: r[1] for r in conn.execute("SELECT code, go_live FROM waves")},
        "test_cases": {r[0] for r in conn.execute("SELECT key FROM test_cases")},
        "defects": {r[0] for r in conn.execute("SELECT key FROM defects")},
        "criteria": {
            (r[0], r[1]): r[2] for r in conn.execute("SELECT wave, code, kind FROM criteria")
        },
        "decisions": {
            r[0]: {"domain": r[1], "forum": r[2]}
            for r in conn.execute("SELECT key, domain, forum FROM decisions")
        },
    }
    experts: dict[str, dict] = {
        r[0]: {"organization": r[1], "domains": set(), "roles": set(), "forums": set()}
        for r in conn.execute("SELECT email, organization FROM experts")
    }
    for table, column, bucket in (
        ("expert_domains", "domain", "domains"),
        ("expert_roles", "role", "roles"),
        ("forum_members", "forum", "forums"),
    ):
        for email, value in conn.execute(f"SELECT expert, {column} FROM {table}"):
            experts[email][bucket].add(value)
    catalog["experts"] = experts
    members: dict[str, set[str]] = defaultdict(set)
    for email, info in experts.items():
        for forum_code in info["forums"]:
            members[forum_code].add(email)
    catalog["forum_members"] = members
    forum_domains: dict[str, set[str]] = defaultdict(set)
    for forum_code, domain in conn.execute("SELECT forum, domain FROM forum_domains"):
        forum_domains[forum_code].add(domain)
    catalog["forum_domains"] = forum_domains
    catalog["covered_cases"] = {
        r[0] for r in conn.execute("SELECT DISTINCT test_case FROM test_case_decisions")
    }
    return catalog


def decisions_covered(conn: sqlite3.Connection, cases: set[str]) -> list[str]:
    """The decisions that any of these test cases cover."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT decision FROM test_case_decisions "
            "WHERE test_case IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(cases)),),
        )
    ]


# Evidence rows by key -------------------------------------------------------------------------


def evidence_ids(conn: sqlite3.Connection, table: str, key: tuple[str, ...]) -> dict[tuple, int]:
    """Rows of approvals, test_runs or measurements by their natural key, newest id winning."""
    return {
        tuple(r[:-1]): r[-1]
        for r in conn.execute(f"SELECT {', '.join(key)}, id FROM {table} ORDER BY id")
    }


# Backup ---------------------------------------------------------------------------------------


def vacuum_into(conn: sqlite3.Connection, dest: Path) -> None:
    """A consistent, compacted copy of the database as of one read transaction."""
    conn.execute("VACUUM INTO ?", (str(dest),))


def private_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of the database as of one read transaction, to try changes on
    (an import's check and dry run) without taking the database's write lock."""
    copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.backup(copy)
    copy.row_factory = sqlite3.Row
    copy.execute("PRAGMA foreign_keys = ON")
    return copy


def use_rollback_journal(path: Path) -> None:
    """Leave a copy in rollback-journal mode: a WAL database cannot be opened read-only
    where its folder is read-only (a share), since a reader must create the -shm file."""
    copy = sqlite3.connect(path, isolation_level=None)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()


def database_file(conn: sqlite3.Connection) -> Path:
    return Path(conn.execute("PRAGMA database_list").fetchone()[2])
