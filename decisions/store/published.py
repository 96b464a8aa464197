"""Queries behind the published decision log (decisions.publish): the decided register with
what it needs to be read by every staff member, and no person's email or name."""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from decisions.store import rows, rules, write

# Published: decided or later; a decision withdrawn before it was decided never was.
_PUBLISHED = "d.stage <> 'proposed' AND (d.stage <> 'withdrawn' OR d.decided_at IS NOT NULL)"


def published_decisions(conn: sqlite3.Connection) -> list[dict]:
    """Every published decision with the names of its domain, module and forum, its
    organisations' and waves' codes, and its versions (oldest first)."""
    decisions = rows(
        conn,
        f"""
        SELECT d.key, d.title, d.question, d.decision, d.rationale, d.stage, d.scope,
               d.criticality, d.decided_at, d.version, d.withdrawn_reason, d.all_organizations,
               d.domain, dm.name AS domain_name, d.module, m.name AS module_name,
               d.forum, f.name AS forum_name, f.level AS forum_level
        FROM decisions d
        JOIN domains dm ON dm.code = d.domain
        JOIN modules m ON m.code = d.module
        JOIN forums f ON f.code = d.forum
        WHERE {_PUBLISHED}
        ORDER BY d.key
        """,
    )
    organizations = _grouped(
        conn,
        f"SELECT o.decision, o.organization FROM decision_organizations o "
        f"JOIN decisions d ON d.key = o.decision WHERE {_PUBLISHED} ORDER BY 1, 2",
    )
    waves = _grouped(
        conn,
        f"""
        SELECT DISTINCT d.key, w.wave FROM decisions d
        JOIN wave_organizations w ON {rules.affects_organization("d", "(w.organization)")}
        WHERE {_PUBLISHED} ORDER BY 1, 2
        """,
    )
    versions: dict[str, list[dict]] = defaultdict(list)
    for version in rows(
        conn,
        f"SELECT v.decision, v.version, v.decision_text, v.rationale, v.started_at, v.reason "
        f"FROM decision_versions v JOIN decisions d ON d.key = v.decision "
        f"WHERE {_PUBLISHED} ORDER BY v.decision, v.version",
    ):
        versions[version.pop("decision")].append(version)
    for decision in decisions:
        key = decision["key"]
        decision["organizations"] = organizations.get(key, [])
        decision["waves"] = waves.get(key, [])
        decision["versions"] = versions.get(key, [])
    return decisions


def _grouped(conn: sqlite3.Connection, sql: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in conn.execute(sql):
        grouped[key].append(value)
    return grouped


def reference_lists(conn: sqlite3.Connection) -> dict[str, list[dict]]:
    """The lists a published decision is on, and the organisations it affects."""
    return {
        "domains": rows(conn, "SELECT code, name FROM domains ORDER BY name"),
        "modules": rows(conn, "SELECT code, name, domain FROM modules ORDER BY name"),
        "forums": rows(conn, "SELECT code, name, level, scope FROM forums ORDER BY level, name"),
        "waves": rows(conn, "SELECT code, name, go_live FROM waves ORDER BY go_live, code"),
        "organizations": rows(conn, "SELECT code, name, kind FROM organizations ORDER BY name"),
    }


def people(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(name, email) of everyone in the directory: what the published log must never show."""
    return [(r[0], r[1]) for r in conn.execute("SELECT name, email FROM experts")]


def replace_readiness_now(conn: sqlite3.Connection, criteria: list[dict]) -> None:
    """The table readiness_now holds `criteria` (one row per wave and criterion) and nothing
    else, in one transaction: a derived table for analysts, not a change to the programme."""
    from decisions.store import transaction

    with transaction(conn):
        write.clear(conn, "readiness_now")
        write.insert_rows(conn, "readiness_now", READINESS_COLUMNS,
                          [tuple(c[k] for k in READINESS_COLUMNS) for c in criteria])  # fmt: skip


READINESS_COLUMNS = (
    "wave", "wave_name", "go_live", "as_of", "wave_go", "criterion", "name", "kind", "metric",
    "comparator", "threshold", "value", "status", "status_words", "outlook", "outlook_words",
    "forecast", "refreshed_at",
)  # fmt: skip
