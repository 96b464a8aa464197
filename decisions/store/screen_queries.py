"""Queries behind the core screens: the register's search and filters, the overview's figures,
a person's work queues and a decision's timeline. Each returns a DataFrame or plain rows."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import pandas as pd

from decisions.model import Actor
from decisions.store import rows, rules, scalar
from decisions.store.folding import fold


def _in(values: tuple | list) -> str:
    return f"({', '.join('?' * len(values))})"


# The register --------------------------------------------------------------------------------

_KEY_LIKE = re.compile(r"^[A-Za-z0-9]+-\d*$")
# Each word is one more prefix scan of the index: 5,000 words took 11 s on every rerun.
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 10


def _distinct_words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)))


def search_words(text: str) -> list[str]:
    """The words of a search that are searched: the first MAX_SEARCH_WORDS distinct ones of
    its first MAX_SEARCH_CHARS characters."""
    return _distinct_words(text[:MAX_SEARCH_CHARS])[:MAX_SEARCH_WORDS]


def words_left_out(text: str) -> bool:
    """True when the search has more words than are searched (the register says so)."""
    return len(_distinct_words(text)) > len(search_words(text))


def fts_query(text: str, *, folded: bool = False) -> str | None:
    """The user's words as an FTS5 query: every word must appear, each as a prefix.
    Each word is quoted, so nothing the user types is read as FTS syntax. `folded`: the words
    folded, for the folded index."""
    words = search_words(text)
    if folded:
        words = [w for word in words for w in re.findall(r"\w+", fold(word))]
    return " ".join(f'"{word}"*' for word in words) or None


def spelled_exactly(text: str) -> bool:
    """True when the search is spelled with letters the folding forgives (æ, ø, å, aa,
    accents): exact-spelling hits then come first."""
    words = search_words(text)
    return bool(words) and fold(" ".join(words)) != " ".join(words)


@dataclass(frozen=True)
class RegisterQuery:
    """What the register shows: search text and filters (an empty filter lets everything in)."""

    text: str = ""
    domains: tuple[str, ...] = ()
    forums: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    criticalities: tuple[str, ...] = ()
    waves: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    named: tuple[tuple[str, str], ...] = ()  # (table, code): forums, organisations searched by name


def _register_where(query: RegisterQuery) -> tuple[str, list]:
    clauses, params = [], []
    match = fts_query(query.text, folded=True)
    if match:
        searches = [
            "d.rowid IN (SELECT rowid FROM decisions_folded WHERE decisions_folded MATCH ?)"
        ]
        params.append(match)
        if len(query.text) <= MAX_SEARCH_CHARS and _KEY_LIKE.match(query.text.strip()):
            searches.append("d.key LIKE ?")
            params.append(query.text.strip().upper() + "%")
        forums = [code for table, code in query.named if table == "forums"]
        if forums:
            searches.append(f"d.forum IN {_in(forums)}")
            params += forums
        organizations = [code for table, code in query.named if table == "organizations"]
        if organizations:
            searches.append(rules.affects_organization("d", _in(organizations)))
            params += organizations
        clauses.append(f"({' OR '.join(searches)})")
    for column, values in (
        ("domain", query.domains),
        ("forum", query.forums),
        ("module", query.modules),
        ("stage", query.stages),
        ("criticality", query.criticalities),
    ):
        if values:
            clauses.append(f"d.{column} IN {_in(values)}")
            params += list(values)
    if query.waves:
        clauses.append(rules.in_wave_scope("d", _in(query.waves)))
        params += list(query.waves)
    if query.organizations:
        clauses.append(rules.affects_organization("d", _in(query.organizations)))
        params += list(query.organizations)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def search_decisions(
    conn: sqlite3.Connection, query: RegisterQuery, limit: int = 500
) -> tuple[pd.DataFrame, int]:
    """The first `limit` decisions matching `query`, and how many match in all. The search
    forgives missing Norwegian letters (`fold`); a search spelled with them lists the
    decisions spelled so first. Otherwise by key."""
    where, params = _register_where(query)
    total = scalar(conn, f"SELECT count(*) FROM decisions d{where}", params)
    order, order_params = "d.key", []
    if spelled_exactly(query.text):
        order = ("d.rowid IN (SELECT rowid FROM decisions_fts WHERE decisions_fts MATCH ?) DESC, "
                 "d.key")  # fmt: skip
        order_params = [fts_query(query.text)]
    frame = pd.read_sql_query(
        f"""
        SELECT d.key, d.title, d.stage, d.domain, d.module, d.forum, d.scope, d.criticality,
               d.needed_by, d.owner, substr(d.stage_since, 1, 10) AS stage_since, d.version
        FROM decisions d{where}
        ORDER BY {order} LIMIT ?
        """,
        conn,
        params=[*params, *order_params, limit],
    )
    return frame, total


NAMED_PREFIX = 4  # "med" names no forum; "medi" names the medication groups


def named(conn: sqlite3.Connection, text: str) -> list[dict]:
    """The forums and organisations whose name or code has every word of the search (folded;
    a word of NAMED_PREFIX letters or more may be the start of one): table, code and name of
    each. The register lists them and finds their decisions."""
    words = [fold(w) for w in search_words(text)]
    if not words:
        return []

    def names(word: str, own: list[str]) -> bool:
        return word in own or (len(word) >= NAMED_PREFIX and any(w.startswith(word) for w in own))

    found = []
    for table in ("organizations", "forums"):
        for r in rows(conn, f"SELECT code, name FROM {table} ORDER BY name"):
            own = re.findall(r"\w+", fold(f"{r['code']} {r['name']}"))
            if all(names(word, own) for word in words):
                found.append({"table": table, "code": r["code"], "name": r["name"]})
    return found


def filter_choices(conn: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """(code, name) of every domain, forum, module, wave and organisation, for the filters."""
    return {
        table: [
            (r["code"], r["name"])
            for r in rows(conn, f"SELECT code, name FROM {table} ORDER BY code")
        ]
        for table in ("domains", "forums", "modules", "waves", "organizations")
    }


# The overview --------------------------------------------------------------------------------


def next_go_lives(conn: sqlite3.Connection, today: str) -> pd.DataFrame:
    """Waves going live on or after `today`, soonest first, with their organisations."""
    return pd.read_sql_query(
        """
        SELECT w.code, w.name, w.go_live,
               (SELECT group_concat(o.name, ', ') FROM wave_organizations wo
                JOIN organizations o ON o.code = wo.organization WHERE wo.wave = w.code)
                   AS organizations,
               (SELECT count(*) FROM wave_replans r WHERE r.wave = w.code) AS replans
        FROM waves w WHERE w.go_live >= ? ORDER BY w.go_live, w.code
        """,
        conn,
        params=[today],
    )


def stage_counts(conn: sqlite3.Connection) -> pd.DataFrame:
    """How many decisions are at each stage."""
    return pd.read_sql_query(
        "SELECT stage, count(*) AS decisions FROM decisions GROUP BY stage", conn
    )


def overdue_proposals(conn: sqlite3.Connection, today: str, limit: int = 200) -> pd.DataFrame:
    """Decisions still proposed after their needed-by date, most overdue first."""
    return pd.read_sql_query(
        f"""
        SELECT d.key, d.title, d.forum, d.criticality, d.needed_by,
               {rules.days_overdue("d", ":today")} AS days_overdue
        FROM decisions d WHERE {rules.is_overdue("d", ":today")}
        ORDER BY d.needed_by, d.key LIMIT :limit
        """,
        conn,
        params={"today": today, "limit": limit},
    )


def count_overdue_proposals(conn: sqlite3.Connection, today: str) -> int:
    return scalar(
        conn,
        f"SELECT count(*) FROM decisions d WHERE {rules.is_overdue('d', ':today')}",
        {"today": today},
    )


def stuck_longest(conn: sqlite3.Connection, today: str, limit: int = 15) -> pd.DataFrame:
    """Decisions still moving that have sat longest in their current stage."""
    return pd.read_sql_query(
        """
        SELECT key, title, stage, forum, substr(stage_since, 1, 10) AS since,
               CAST(julianday(?) - julianday(substr(stage_since, 1, 10)) AS INTEGER)
                   AS days_in_stage
        FROM decisions WHERE stage NOT IN ('ready', 'withdrawn')
        ORDER BY stage_since, key LIMIT ?
        """,
        conn,
        params=[today, limit],
    )


def escalated_open(conn: sqlite3.Connection) -> pd.DataFrame:
    """Proposals that were escalated and still wait for a decision, with the last escalation."""
    return pd.read_sql_query(
        """
        SELECT d.key, d.title, e.from_value AS from_forum, d.forum, substr(e.at, 1, 10) AS since,
               e.reason
        FROM decisions d JOIN events e ON e.id = (
            SELECT max(id) FROM events x
            WHERE x.entity = 'decision' AND x.entity_key = d.key AND x.action = 'escalated')
        WHERE d.stage = 'proposed' ORDER BY e.at, d.key
        """,
        conn,
    )


# A person's work -----------------------------------------------------------------------------

_QUEUE_COLUMNS = (
    "d.key, d.title, d.stage, d.domain, d.forum, d.criticality, d.needed_by, "
    "substr(d.stage_since, 1, 10) AS stage_since"
)


_AWAITING_FORUM = "d.stage = 'proposed'"  # what waits for a forum's decision


def awaiting_forum_decision(
    conn: sqlite3.Connection, actor: Actor, limit: int = 500
) -> pd.DataFrame:
    """Proposals in the forums the person sits in."""
    forums = sorted(actor.forums)
    return pd.read_sql_query(
        f"""
        SELECT {_QUEUE_COLUMNS} FROM decisions d
        WHERE {_AWAITING_FORUM} AND d.forum IN {_in(forums)}
        ORDER BY coalesce(d.needed_by, '9999'), d.key LIMIT ?
        """,
        conn,
        params=[*forums, limit],
    )


def awaiting_forum_decisions(conn: sqlite3.Connection, first: int) -> pd.DataFrame:
    """awaiting_forum_decision of every forum member in one query (`member`), each person's
    first `first` rows in the same order, and `waiting` counting them all."""
    return pd.read_sql_query(
        f"""
        SELECT * FROM (
            SELECT m.expert AS member, {_QUEUE_COLUMNS},
                   row_number() OVER mine AS position,
                   count(*) OVER (PARTITION BY m.expert) AS waiting
            FROM decisions d CROSS JOIN forum_members m ON m.forum = d.forum
            WHERE {_AWAITING_FORUM}
            WINDOW mine AS (PARTITION BY m.expert ORDER BY coalesce(d.needed_by, '9999'), d.key)
        ) WHERE position <= ? ORDER BY member, position
        """,
        conn,
        params=[first],
    )


def awaiting_build(conn: sqlite3.Connection, actor: Actor, limit: int = 500) -> pd.DataFrame:
    """Decided decisions and builds in progress, in the person's domains (all when they have
    none)."""
    domains = sorted(actor.domains)
    in_domains = f"AND d.domain IN {_in(domains)}" if domains else ""
    return pd.read_sql_query(
        f"""
        SELECT {_QUEUE_COLUMNS} FROM decisions d
        WHERE d.stage IN ('decided', 'in_build') {in_domains}
        ORDER BY d.stage DESC, d.stage_since, d.key LIMIT ?
        """,
        conn,
        params=[*domains, limit],
    )


def escalated_by(conn: sqlite3.Connection, email: str, limit: int = 500) -> pd.DataFrame:
    """Decisions the person escalated, with where they are now."""
    return pd.read_sql_query(
        f"""
        SELECT {_QUEUE_COLUMNS}, substr(e.at, 1, 10) AS escalated, e.from_value AS from_forum,
               e.reason
        FROM events e JOIN decisions d ON d.key = e.entity_key
        -- "+": by the action's index (a few thousand rows), not the entity's (all of them)
        WHERE +e.entity = 'decision' AND e.action = 'escalated' AND e.actor = ?
        ORDER BY e.id DESC LIMIT ?
        """,
        conn,
        params=[email, limit],
    )


def owned_by(conn: sqlite3.Connection, email: str, limit: int = 500) -> pd.DataFrame:
    """Decisions the person owns that are not ready or withdrawn."""
    return pd.read_sql_query(
        f"""
        SELECT {_QUEUE_COLUMNS} FROM decisions d
        WHERE d.owner = ? AND d.stage NOT IN ('ready', 'withdrawn')
        ORDER BY coalesce(d.needed_by, '9999'), d.key LIMIT ?
        """,
        conn,
        params=[email, limit],
    )


# One decision --------------------------------------------------------------------------------


def decision_timeline(conn: sqlite3.Connection, key: str) -> list[dict]:
    """Every event about the decision and its evidence (demos, verdicts, test cases and runs,
    defects), oldest first."""
    cases = "SELECT test_case FROM test_case_decisions WHERE decision = :key"
    return rows(
        conn,
        f"""
        SELECT id, at, actor, entity, entity_key, action, from_value, to_value, reason
        FROM events WHERE
            (entity = 'decision' AND entity_key = :key)
         OR (entity = 'demo' AND entity_key IN
                (SELECT demo FROM demo_decisions WHERE decision = :key))
         OR (entity = 'approval' AND entity_key IN
                (SELECT CAST(id AS TEXT) FROM approvals WHERE decision = :key))
         OR (entity = 'test_case' AND entity_key IN ({cases}))
         OR (entity = 'test_run' AND entity_key IN
                (SELECT CAST(id AS TEXT) FROM test_runs WHERE test_case IN ({cases})))
         OR (entity = 'defect' AND entity_key IN
                (SELECT key FROM defects WHERE decision = :key OR test_case IN ({cases})))
        ORDER BY id
        """,
        {"key": key},
    )


def people_names(conn: sqlite3.Connection, emails: list[str]) -> dict[str, str]:
    """Names of the given people, by email."""
    emails = sorted(set(emails))
    return {
        r["email"]: r["name"]
        for r in rows(conn, f"SELECT email, name FROM experts WHERE email IN {_in(emails)}", emails)
    }


def forums_above(conn: sqlite3.Connection, forum: str) -> list[dict]:
    """Forums at a higher level than `forum`: where a proposal can be escalated to."""
    return rows(
        conn,
        "SELECT code, name, level FROM forums "
        "WHERE level > (SELECT level FROM forums WHERE code = ?) ORDER BY level, code",
        (forum,),
    )


def forum_members(conn: sqlite3.Connection, forum: str) -> list[dict]:
    return rows(
        conn,
        "SELECT e.email, e.name FROM forum_members m JOIN experts e ON e.email = m.expert "
        "WHERE m.forum = ? AND e.active = 1 ORDER BY e.name",
        (forum,),
    )


def modules_of_domain(conn: sqlite3.Connection, domain: str) -> list[dict]:
    return rows(conn, "SELECT code, name FROM modules WHERE domain = ? ORDER BY code", (domain,))


def organization_name(conn: sqlite3.Connection, code: str) -> str | None:
    return scalar(conn, "SELECT name FROM organizations WHERE code = ?", (code,))


# A demo's page (issue 24: the demo, its decisions and the verdicts given on them) -----------


def demo_decisions(conn: sqlite3.Connection, demo: str) -> list[dict]:
    """The decisions a demo showed, with what its page and its verdict form need."""
    return rows(
        conn,
        "SELECT d.key, d.title, d.stage, d.domain, d.forum, d.scope "
        "FROM demo_decisions dd JOIN decisions d ON d.key = dd.decision "
        "WHERE dd.demo = ? ORDER BY d.key",
        (demo,),
    )


def demo_verdicts(conn: sqlite3.Connection, demo: str) -> list[dict]:
    """The verdicts given on the decisions a demo showed from its day on, oldest first;
    `counts` is 0 for one of an earlier build round than the decision's current one."""
    return rows(
        conn,
        f"""
        SELECT a.decision, a.expert, e.name, a.verdict, a.date, a.comment,
               {rules.counts_from("a.date", "d.built_at")} AS counts
        FROM demos dm
        JOIN demo_decisions dd ON dd.demo = dm.key
        JOIN approvals a ON a.decision = dd.decision
        JOIN decisions d ON d.key = a.decision
        LEFT JOIN experts e ON e.email = a.expert
        WHERE dm.key = ? AND substr(a.date, 1, 10) >= substr(dm.date, 1, 10)
        ORDER BY a.date, a.id
        """,
        (demo,),
    )


def demos_invited_to(
    conn: sqlite3.Connection, email: str, today: str, limit: int = 20
) -> list[dict]:
    """The scheduled demos from `today` on that `email` is invited to, soonest first."""
    return rows(
        conn,
        "SELECT dm.key, dm.date, dm.start_time, dm.module FROM demo_invitees i "
        "JOIN demos dm ON dm.key = i.demo "
        "WHERE i.expert = ? AND dm.held = 0 AND dm.cancelled = 0 AND substr(dm.date, 1, 10) >= ? "
        "ORDER BY dm.date, dm.start_time, dm.key LIMIT ?",
        (email, today, limit),
    )
