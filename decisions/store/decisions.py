"""Queries on decisions, the people who act on them, and the facts their stage is derived from."""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict

import pandas as pd

from decisions.model import Actor, DecisionFacts, DemoFact, RunFact, VerdictFact
from decisions.store import one, rows, rules, scalar, write
from decisions.workflow import side_of

# People -----------------------------------------------------------------------------------


def load_actor(conn: sqlite3.Connection, email: str) -> Actor | None:
    """The person with this email as the services see them, or None if unknown/inactive."""
    person = one(
        conn,
        "SELECT e.email, e.name, e.organization, o.kind FROM experts e "
        "JOIN organizations o ON o.code = e.organization WHERE e.email = ? AND e.active = 1",
        (email.strip().lower(),),
    )
    if person is None:
        return None
    email = person["email"]

    def column(sql: str) -> frozenset[str]:
        return frozenset(r[0] for r in conn.execute(sql, (email,)))

    return Actor(
        email=email,
        name=person["name"],
        roles=column("SELECT role FROM expert_roles WHERE expert = ?"),
        domains=column("SELECT domain FROM expert_domains WHERE expert = ?"),
        forums=column("SELECT forum FROM forum_members WHERE expert = ?"),
        organization=person["organization"],
        side=side_of(person["kind"]),
    )


def load_actors(conn: sqlite3.Connection) -> list[Actor]:
    """Every active person as load_actor gives them, in four queries (for bulk work such as
    the notices)."""
    links: dict[str, dict[str, set]] = {}
    for table, column in (("expert_roles", "role"), ("expert_domains", "domain"),
                          ("forum_members", "forum")):  # fmt: skip
        for expert, value in conn.execute(f"SELECT expert, {column} FROM {table}"):
            links.setdefault(expert, {}).setdefault(column, set()).add(value)
    people = conn.execute(
        "SELECT e.email, e.name, e.organization, o.kind FROM experts e "
        "JOIN organizations o ON o.code = e.organization WHERE e.active = 1 ORDER BY e.email"
    ).fetchall()
    return [
        Actor(
            email=p[0],
            name=p[1],
            roles=frozenset(links.get(p[0], {}).get("role", ())),
            domains=frozenset(links.get(p[0], {}).get("domain", ())),
            forums=frozenset(links.get(p[0], {}).get("forum", ())),
            organization=p[2],
            side=side_of(p[3]),
        )
        for p in people
    ]


def directory(conn: sqlite3.Connection, email: str | None = None) -> pd.DataFrame:
    """Everyone in the directory (or the one person `email`) with their organisation, roles
    and domains."""
    return pd.read_sql_query(
        """
        SELECT e.email, e.name, e.organization, o.name AS organization_name, o.kind,
               e.allocation_pct, e.active,
               (SELECT group_concat(role, ';') FROM expert_roles r WHERE r.expert = e.email)
                   AS roles,
               (SELECT group_concat(domain, ';') FROM expert_domains d WHERE d.expert = e.email)
                   AS domains
        FROM experts e JOIN organizations o ON o.code = e.organization
        WHERE :email IS NULL OR e.email = :email
        ORDER BY e.name
        """,
        conn,
        params={"email": email},
    )


def forum(conn: sqlite3.Connection, code: str) -> dict | None:
    return one(conn, "SELECT * FROM forums WHERE code = ?", (code,))


def forum_member_emails(conn: sqlite3.Connection, forum_code: str) -> set[str]:
    return {
        r[0]
        for r in conn.execute("SELECT expert FROM forum_members WHERE forum = ?", (forum_code,))
    }


# One decision -----------------------------------------------------------------------------


def get_decision(conn: sqlite3.Connection, key: str) -> dict | None:
    """A decision with its organisations and deciders as lists."""
    decision = one(conn, "SELECT * FROM decisions WHERE key = ?", (key,))
    if decision is None:
        return None
    decision["organizations"] = [
        r[0]
        for r in conn.execute(
            "SELECT organization FROM decision_organizations WHERE decision = ? ORDER BY 1", (key,)
        )
    ]
    decision["decided_by"] = [
        r[0]
        for r in conn.execute(
            "SELECT expert FROM decision_deciders WHERE decision = ? ORDER BY 1", (key,)
        )
    ]
    return decision


def next_decision_key(conn: sqlite3.Connection, domain: str) -> str:
    """The next free key in the domain's series, e.g. MED-0042."""
    prefix = re.sub(r"[^A-Z0-9]", "", domain.upper())[:6] or "DEC"
    numbers = [
        int(r[0][len(prefix) + 1 :])
        for r in conn.execute("SELECT key FROM decisions WHERE key LIKE ?", (prefix + "-%",))
        if r[0][len(prefix) + 1 :].isdigit()
    ]
    return f"{prefix}-{max(numbers, default=0) + 1:04d}"


def insert_decision(conn: sqlite3.Connection, decision: dict, organizations: list[str]) -> None:
    write.insert_one(conn, "decisions", decision)
    set_decision_organizations(conn, decision["key"], organizations)


def set_decision_organizations(conn: sqlite3.Connection, key: str, codes: list[str]) -> None:
    write.replace_links(conn, "decision_organizations", "decision", "organization", {key: codes})


def set_deciders(conn: sqlite3.Connection, key: str, emails: list[str]) -> None:
    write.replace_links(conn, "decision_deciders", "decision", "expert", {key: emails})


def update_decision(
    conn: sqlite3.Connection, key: str, changes: dict, expected_row_version: int | None = None
) -> bool:
    """Apply `changes` and bump the row version; False when the row version did not match."""
    return write.update_versioned(conn, "decisions", {"key": key}, changes, expected_row_version)


def add_decision_version(conn: sqlite3.Connection, version: dict) -> None:
    write.insert_one(conn, "decision_versions", version)


def decision_versions(conn: sqlite3.Connection, key: str) -> list[dict]:
    return rows(conn, "SELECT * FROM decision_versions WHERE decision = ? ORDER BY version", (key,))


def open_severe_defects(conn: sqlite3.Connection, key: str) -> list[dict]:
    """Open defects rated 1 or 2 by vendor or clinicians, linked to the decision directly or
    through a test case that covers it."""
    return rows(
        conn,
        """
        SELECT * FROM defects
        WHERE status = 'open' AND min(severity_vendor, severity_clinical) <= 2
          AND (decision = ? OR test_case IN
               (SELECT test_case FROM test_case_decisions WHERE decision = ?))
        ORDER BY key
        """,
        (key, key),
    )


# The facts a stage is derived from ---------------------------------------------------------


_BULK_KEYS = 2_000


def decision_facts(
    conn: sqlite3.Connection, keys: list[str] | None = None
) -> dict[str, DecisionFacts]:
    """The facts behind the stage of each decision (all decisions when `keys` is None)."""
    if keys is not None and len(keys) > _BULK_KEYS:
        # Reading everything beats filling the key table row by row for a large share.
        wanted = set(keys)
        return {k: f for k, f in decision_facts(conn).items() if k in wanted}
    if keys is None:
        where, params = "", []
    else:
        if not keys:
            return {}
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS fact_keys (key TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.fact_keys")
        conn.executemany("INSERT OR IGNORE INTO temp.fact_keys VALUES (?)", [(k,) for k in keys])
        where, params = "IN (SELECT key FROM temp.fact_keys)", []

    def restrict(column: str) -> str:
        return f"WHERE {column} {where}" if where else ""

    demos: dict[str, list[DemoFact]] = defaultdict(list)
    for r in conn.execute(
        f"""
        SELECT dd.decision, d.date,
               (SELECT count(*) FROM demo_attendees a WHERE a.demo = d.key) AS attendees
        FROM demo_decisions dd JOIN demos d ON d.key = dd.demo {restrict("dd.decision")}
        """,
        params,
    ):
        demos[r[0]].append(DemoFact(date=r[1], attendees=r[2]))

    verdicts: dict[str, list[VerdictFact]] = defaultdict(list)
    for r in conn.execute(
        f"""
        SELECT a.decision, a.expert, a.verdict, a.date, {rules.side_of("o.kind")} AS side,
               ed.domain IS NOT NULL AS in_domain, a.id
        FROM approvals a
        JOIN decisions dec ON dec.key = a.decision
        JOIN experts e ON e.email = a.expert
        JOIN organizations o ON o.code = e.organization
        LEFT JOIN expert_domains ed ON ed.expert = a.expert AND ed.domain = dec.domain
        {restrict("a.decision")}
        """,
        params,
    ):
        verdicts[r[0]].append(VerdictFact(r[1], r[2], r[3], r[4], bool(r[5]), r[6]))

    runs: dict[str, dict[str, list[RunFact]]] = defaultdict(lambda: defaultdict(list))
    for r in conn.execute(
        f"""
        SELECT tcd.decision, tcd.test_case, tr.date, tr.result, tr.id
        FROM test_case_decisions tcd LEFT JOIN test_runs tr ON tr.test_case = tcd.test_case
        {restrict("tcd.decision")}
        """,
        params,
    ):
        case_runs = runs[r[0]][r[1]]
        if r[2] is not None:
            case_runs.append(RunFact(date=r[2], result=r[3], seq=r[4]))

    facts = {}
    for r in conn.execute(
        "SELECT key, base_stage, built_at, ready_at, scope, criticality, stage_cap, "
        "stage_cap_since FROM decisions " + restrict("key"),
        params,
    ):
        key = r[0]
        facts[key] = DecisionFacts(
            base_stage=r[1],
            built_at=r[2],
            ready_marked=r[3] is not None,
            scope=r[4],
            criticality=r[5],
            demos=tuple(demos.get(key, ())),
            verdicts=tuple(verdicts.get(key, ())),
            runs_by_case={case: tuple(rs) for case, rs in runs.get(key, {}).items()},
            stage_cap=r[6],
            stage_cap_since=r[7],
        )
    return facts


def stored_stages(conn: sqlite3.Connection, keys: list[str] | None = None) -> dict[str, str]:
    """Each decision's stored stage (of `keys` only, when given)."""
    if keys is not None and len(keys) <= 500:
        marks = ", ".join("?" * len(keys))
        sql = f"SELECT key, stage FROM decisions WHERE key IN ({marks})"
        return {r[0]: r[1] for r in conn.execute(sql, keys)}
    stages = {r[0]: r[1] for r in conn.execute("SELECT key, stage FROM decisions")}
    return stages if keys is None else {k: stages[k] for k in keys if k in stages}


def logged_stages(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Each decision's stage as its event log tells it: the to_value of its last 'created'
    or 'stage' event (None when it has none)."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            """
            SELECT d.key,
                   (SELECT e.to_value FROM events e WHERE e.id = (
                       SELECT max(x.id) FROM events x
                       WHERE x.entity = 'decision' AND x.entity_key = d.key
                         AND x.action IN ('created', 'stage')))
            FROM decisions d
            """
        )
    }


def decisions_of_demo(conn: sqlite3.Connection, demo: str) -> list[str]:
    return [
        r[0] for r in conn.execute("SELECT decision FROM demo_decisions WHERE demo = ?", (demo,))
    ]


def count_decisions(conn: sqlite3.Connection) -> int:
    return scalar(conn, "SELECT count(*) FROM decisions")
