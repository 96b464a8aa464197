"""Queries behind the evidence screens: the approvals queue, demo lists, testing lists,
coverage of a wave and suspect evidence. Each is one query into a DataFrame, so the pages stay
fast at tens of thousands of decisions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from decisions.model import STAGES
from decisions.store import GENESIS_HASH, last_event, rows, rules, scalar


def _frame(conn: sqlite3.Connection, sql: str, params: dict | list | tuple = ()) -> pd.DataFrame:
    return pd.read_sql_query(sql, conn, params=params)


# The approvals queue ------------------------------------------------------------------------


def _verdict_due(expert: str) -> str:
    """The approvals queue's rule: a demonstrated decision whose latest verdict from `expert`
    in its current round is not an approval."""
    return (f"d.stage = 'demonstrated' AND "
            f"{rules.latest_verdict('d.key', expert, 'd.built_at')} IS NOT 'approve'")  # fmt: skip


def approvals_queue(conn: sqlite3.Connection, expert: str) -> pd.DataFrame:
    """Demonstrated decisions in the expert's domains whose latest verdict from this expert in
    the current round is not an approval, the longest-waiting first."""
    return _frame(
        conn,
        f"""
        SELECT d.key, d.title, d.domain, d.module, d.scope, d.criticality, d.stage,
               d.built_at, d.stage_since AS demonstrated_since, d.row_version,
               {rules.latest_verdict("d.key", ":expert", "d.built_at")} AS my_verdict
        FROM decisions d
        WHERE d.domain IN (SELECT domain FROM expert_domains WHERE expert = :expert)
          AND {_verdict_due(":expert")}
        ORDER BY d.stage_since, d.key
        """,
        {"expert": expert},
    )


def approvals_queues(conn: sqlite3.Connection, first: int) -> pd.DataFrame:
    """approvals_queue of every expert in one query: each expert's first `first` rows in the
    same order, `waiting` counting them all."""
    return _frame(
        conn,
        f"""
        WITH due AS (
            SELECT ed.expert, d.key, d.stage_since,
                   row_number() OVER (PARTITION BY ed.expert ORDER BY d.stage_since, d.key)
                       AS position,
                   count(*) OVER (PARTITION BY ed.expert) AS waiting
            FROM decisions d  -- CROSS JOIN keeps this order: the few demonstrated ones outwards
            CROSS JOIN expert_domains ed ON ed.domain = d.domain
            WHERE {_verdict_due("ed.expert")}
        )
        SELECT due.expert, due.key, d.title, due.position, due.waiting
        FROM due JOIN decisions d ON d.key = due.key
        WHERE due.position <= :first
        ORDER BY due.expert, due.position
        """,
        {"first": first},
    )


def awaiting_approval(conn: sqlite3.Connection, limit: int = 1000) -> pd.DataFrame:
    """Every demonstrated decision, the longest-waiting first."""
    return _frame(
        conn,
        """
        SELECT key, title, domain, module, scope, criticality, stage_since AS demonstrated_since
        FROM decisions WHERE stage = 'demonstrated'
        ORDER BY stage_since, key LIMIT :limit
        """,
        {"limit": limit},
    )


def count_awaiting_approval(conn: sqlite3.Connection) -> int:
    """How many decisions are demonstrated: awaiting approval."""
    return int(scalar(conn, "SELECT count(*) FROM decisions WHERE stage = 'demonstrated'"))


def demos_attended_awaiting_verdicts(conn: sqlite3.Connection, expert: str) -> pd.DataFrame:
    """Held demos the expert attended that still show a demonstrated decision of the expert's
    domains without their approval in its current round, newest first."""
    return _frame(
        conn,
        f"""
        SELECT dm.key, dm.date, dm.module, count(*) AS awaiting
        FROM demo_attendees att  -- CROSS JOIN keeps this order: from my few demos outwards
        CROSS JOIN demos dm ON dm.key = att.demo AND dm.held = 1
        CROSS JOIN demo_decisions dd ON dd.demo = dm.key
        CROSS JOIN decisions d ON d.key = dd.decision AND d.stage = 'demonstrated'
        WHERE att.expert = :expert
          AND d.domain IN (SELECT domain FROM expert_domains WHERE expert = :expert)
          AND {rules.counts_from("dm.date", "d.built_at")}
          AND {rules.latest_verdict("d.key", ":expert", "d.built_at")} IS NOT 'approve'
        GROUP BY dm.key
        ORDER BY dm.date DESC, dm.key
        """,
        {"expert": expert},
    )


def decisions_brief(conn: sqlite3.Connection, keys: list[str]) -> pd.DataFrame:
    """Key, title, domain, module, stage and round start of the given decisions."""
    marks = ", ".join("?" * len(keys))
    return _frame(
        conn,
        f"SELECT key, title, domain, module, scope, criticality, stage, built_at, row_version "
        f"FROM decisions WHERE key IN ({marks}) ORDER BY key",
        keys,
    )


# Demos ----------------------------------------------------------------------------------------

_DEMO_FILTERS = (
    """
    (:module IS NULL OR dm.module = :module)
    AND (:domain IS NULL OR m.domain = :domain)
    AND (:organization IS NULL OR EXISTS (
        SELECT 1 FROM demo_decisions fd JOIN decisions fdec ON fdec.key = fd.decision
        WHERE fd.demo = dm.key AND """
    + rules.affects_organization("fdec", "(:organization)")
    + """))
"""
)


_DEMO_SEARCH = """
    (:search IS NULL OR dm.key LIKE :like ESCAPE '\\' OR dm.module LIKE :like ESCAPE '\\'
     OR m.name LIKE :like ESCAPE '\\' OR EXISTS (
        SELECT 1 FROM demo_decisions sd JOIN decisions sdec ON sdec.key = sd.decision
        WHERE sd.demo = dm.key
          AND (sdec.key LIKE :like ESCAPE '\\' OR sdec.title LIKE :like ESCAPE '\\')))
"""


def _demo_list_where(upcoming: bool) -> str:
    when = (
        "dm.held = 0 AND dm.cancelled = 0 AND substr(dm.date, 1, 10) >= :today"
        if upcoming
        else "(dm.held = 1 OR dm.cancelled = 1 OR substr(dm.date, 1, 10) < :today)"
    )
    return f"{when} AND {_DEMO_FILTERS} AND {_DEMO_SEARCH}"


def _demo_list_params(today: str, search: str | None, **filters: str | None) -> dict:
    text = (search or "").strip()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"today": today, "search": text or None, "like": f"%{escaped}%", **filters}


def demos(
    conn: sqlite3.Connection,
    *,
    upcoming: bool,
    today: str,
    module: str | None = None,
    domain: str | None = None,
    organization: str | None = None,
    search: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> pd.DataFrame:
    """Upcoming demos (scheduled, today or later, soonest first) or past ones (held, or whose
    date has passed, newest first), filtered by module, the module's domain and the
    organisations the shown decisions affect, and by `search`: a part of the demo's key, its
    module's code or name, or a shown decision's key or title."""
    order = "dm.date, dm.key" if upcoming else "dm.date DESC, dm.key DESC"
    params = _demo_list_params(today, search, module=module, domain=domain,
                               organization=organization)  # fmt: skip
    return _frame(
        conn,
        f"""
        SELECT dm.key, substr(dm.date, 1, 10) AS date, dm.start_time, dm.module,
               m.name AS module_name, m.domain, dm.presenter, p.name AS presenter_name, dm.held,
               dm.cancelled,
               (SELECT group_concat(decision, ';') FROM demo_decisions x WHERE x.demo = dm.key)
                   AS decisions,
               (SELECT count(*) FROM demo_invitees x WHERE x.demo = dm.key) AS invited,
               (SELECT count(*) FROM demo_attendees x WHERE x.demo = dm.key) AS attended,
               dm.notes, dm.recording_url, dm.row_version
        FROM demos dm
        JOIN modules m ON m.code = dm.module
        LEFT JOIN experts p ON p.email = dm.presenter
        WHERE {_demo_list_where(upcoming)}
        ORDER BY {order}
        LIMIT :limit OFFSET :offset
        """,
        {**params, "limit": limit, "offset": offset},
    )


def count_demos(
    conn: sqlite3.Connection,
    *,
    upcoming: bool,
    today: str,
    module: str | None = None,
    domain: str | None = None,
    organization: str | None = None,
    search: str | None = None,
) -> int:
    """How many demos `demos` lists with the same choices, over all its pages."""
    params = _demo_list_params(today, search, module=module, domain=domain,
                               organization=organization)  # fmt: skip
    found = conn.execute(
        f"SELECT count(*) FROM demos dm JOIN modules m ON m.code = dm.module "
        f"WHERE {_demo_list_where(upcoming)}",
        params,
    )
    return int(found.fetchone()[0])


def scheduled_demos(conn: sqlite3.Connection, limit: int = 300) -> pd.DataFrame:
    """Demos neither held nor cancelled, soonest first, with what the forms to change, cancel
    or record them show."""
    return _frame(
        conn,
        """
        SELECT dm.key, substr(dm.date, 1, 10) AS date, dm.start_time, dm.duration_min,
               dm.module, m.name AS module_name, dm.presenter, p.name AS presenter_name,
               dm.place, dm.row_version,
               (SELECT count(*) FROM demo_invitees x WHERE x.demo = dm.key) AS invited
        FROM demos dm JOIN modules m ON m.code = dm.module
        LEFT JOIN experts p ON p.email = dm.presenter
        WHERE dm.held = 0 AND dm.cancelled = 0
        ORDER BY substr(dm.date, 1, 10), dm.start_time, dm.key LIMIT :limit
        """,
        {"limit": limit},
    )


def demo_calendar_entries(conn: sqlite3.Connection, keys: list[str]) -> list[dict]:
    """The demos with their module name, presenter, decisions and invitees, for a calendar."""
    if not keys:
        return []
    marks = ", ".join("?" * len(keys))
    return rows(
        conn,
        f"""
        SELECT dm.key, dm.date, dm.module, m.name AS module_name, dm.presenter,
               p.name AS presenter_name, dm.notes, dm.row_version, dm.start_time,
               dm.duration_min, dm.place, dm.meeting_url, dm.cancelled, dm.held,
               (SELECT group_concat(x.decision || ' ' || dec.title, char(10))
                  FROM demo_decisions x JOIN decisions dec ON dec.key = x.decision
                 WHERE x.demo = dm.key) AS decisions,
               (SELECT group_concat(i.expert || ' ' || e.name, char(10))
                  FROM demo_invitees i JOIN experts e ON e.email = i.expert
                 WHERE i.demo = dm.key) AS invitees
        FROM demos dm JOIN modules m ON m.code = dm.module
        LEFT JOIN experts p ON p.email = dm.presenter
        WHERE dm.key IN ({marks}) ORDER BY dm.date, dm.key
        """,
        keys,
    )


def invited_demos(conn: sqlite3.Connection, email: str | None, today: str) -> pd.DataFrame:
    """Upcoming demos (scheduled, not cancelled, today or later) the person is invited to or
    presents, soonest first; with `email` None, every person's, one row per person (`person`)
    and demo."""
    return _frame(
        conn,
        """
        WITH people AS (
            SELECT i.expert AS person, i.demo FROM demo_invitees i
            UNION SELECT dm.presenter, dm.key FROM demos dm
        )
        SELECT pp.person, dm.key, substr(dm.date, 1, 10) AS date, dm.start_time,
               dm.duration_min, dm.module, m.name AS module_name, dm.place, dm.meeting_url,
               dm.row_version
        FROM demos dm JOIN modules m ON m.code = dm.module
        JOIN people pp ON pp.demo = dm.key
        WHERE dm.held = 0 AND dm.cancelled = 0 AND substr(dm.date, 1, 10) >= :today
          AND (:email IS NULL OR pp.person = :email)
        ORDER BY pp.person, dm.date, dm.start_time, dm.key
        """,
        {"email": email, "today": today},
    )


def demonstrable_decisions(conn: sqlite3.Connection, module: str) -> pd.DataFrame:
    """Decisions of a module a demo can show: in build or further, not withdrawn."""
    return _frame(
        conn,
        """
        SELECT key, title, stage FROM decisions
        WHERE module = :module AND stage NOT IN ('proposed', 'decided', 'withdrawn')
        ORDER BY stage = 'built' DESC, key
        """,
        {"module": module},
    )


def people_of_domain(conn: sqlite3.Connection, domain: str | None) -> pd.DataFrame:
    """Active experts of a domain (everyone active when no domain), by name."""
    return _frame(
        conn,
        """
        SELECT e.email, e.name, e.organization FROM experts e
        WHERE e.active = 1 AND (:domain IS NULL OR EXISTS (
            SELECT 1 FROM expert_domains d WHERE d.expert = e.email AND d.domain = :domain))
        ORDER BY e.name, e.email
        """,
        {"domain": domain},
    )


def people_with_role(conn: sqlite3.Connection, *roles: str) -> pd.DataFrame:
    marks = ", ".join("?" * len(roles))
    return _frame(
        conn,
        f"""
        SELECT e.email, e.name, e.organization FROM experts e
        WHERE e.active = 1 AND EXISTS (
            SELECT 1 FROM expert_roles r WHERE r.expert = e.email AND r.role IN ({marks}))
        ORDER BY e.name, e.email
        """,
        list(roles),
    )


# Testing --------------------------------------------------------------------------------------


def test_cases(
    conn: sqlite3.Connection,
    *,
    kind: str | None = None,
    result: str | None = None,
    search: str = "",
    limit: int = 500,
) -> pd.DataFrame:
    """Test cases with what they cover and their latest run; `result` filters on the latest
    run's result ('never' for cases never run)."""
    return _frame(
        conn,
        f"""
        WITH cases AS (
            SELECT tc.key, tc.title, tc.kind, tc.row_version, {rules.latest_run_id("tc.key")} AS run
            FROM test_cases tc
            WHERE (:kind IS NULL OR tc.kind = :kind)
              AND (:search = '' OR tc.key LIKE :like OR tc.title LIKE :like OR EXISTS (
                    SELECT 1 FROM test_case_decisions x
                    WHERE x.test_case = tc.key AND x.decision LIKE :like))
        )
        SELECT c.key, c.title, c.kind,
               (SELECT group_concat(decision, ';') FROM test_case_decisions x
                 WHERE x.test_case = c.key) AS decisions,
               (SELECT count(*) FROM test_runs x WHERE x.test_case = c.key) AS runs,
               substr(l.date, 1, 10) AS last_run, coalesce(l.result, 'never') AS last_result,
               l.defect AS last_defect, c.row_version
        FROM cases c LEFT JOIN test_runs l ON l.id = c.run
        WHERE (:result IS NULL OR coalesce(l.result, 'never') = :result)
        ORDER BY c.key
        LIMIT :limit
        """,
        {
            "kind": kind,
            "result": result,
            "search": search,
            "like": f"%{search}%",
            "limit": limit,
        },
    )


def test_runs(conn: sqlite3.Connection, *, limit: int = 200) -> pd.DataFrame:
    """The latest recorded runs, newest first."""
    return _frame(
        conn,
        f"""
        SELECT tr.id, substr(tr.date, 1, 10) AS date, tr.test_case, tc.title, tr.result,
               tr.tester, tr.defect, tr.notes
        FROM test_runs tr JOIN test_cases tc ON tc.key = tr.test_case
        ORDER BY {rules.newest_first("tr.date", "tr.id")}
        LIMIT :limit
        """,
        {"limit": limit},
    )


def test_case_titles(conn: sqlite3.Connection, search: str = "", limit: int = 200) -> dict:
    """{key: title} of test cases matching `search` in key or title, for a picker."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT key, title FROM test_cases WHERE ? = '' OR key LIKE ? OR title LIKE ? "
            "ORDER BY key LIMIT ?",
            (search, f"%{search}%", f"%{search}%", limit),
        )
    }


_DISAGREE = "d.severity_vendor <> d.severity_clinical"


def defects(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    disagreeing: bool = False,
    limit: int = 500,
) -> pd.DataFrame:
    """Defects with both severity ratings side by side, the worse first."""
    return _frame(
        conn,
        f"""
        SELECT d.key, d.title, d.severity_vendor, d.severity_clinical,
               min(d.severity_vendor, d.severity_clinical) AS worst,
               {_DISAGREE} AS disagree, d.status, d.decision, d.test_case, d.opened, d.closed,
               d.row_version
        FROM defects d
        WHERE (:status IS NULL OR d.status = :status)
          AND (:disagreeing = 0 OR {_DISAGREE})
        ORDER BY d.status <> 'open', worst, d.key
        LIMIT :limit
        """,
        {"status": status, "disagreeing": int(disagreeing), "limit": limit},
    )


def severity_pairs(conn: sqlite3.Connection, status: str | None = None) -> pd.DataFrame:
    """How many defects carry each pair of vendor and clinical severity."""
    return _frame(
        conn,
        """
        SELECT severity_vendor, severity_clinical, count(*) AS defects FROM defects
        WHERE :status IS NULL OR status = :status
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        {"status": status},
    )


def defect_counts(conn: sqlite3.Connection) -> dict:
    """Open defects by worse severity, and how many defects' two ratings disagree."""
    row = conn.execute(
        f"""
        SELECT count(*) FILTER (WHERE d.status = 'open'),
               count(*) FILTER (WHERE d.status = 'open'
                                AND min(d.severity_vendor, d.severity_clinical) = 1),
               count(*) FILTER (WHERE d.status = 'open'
                                AND min(d.severity_vendor, d.severity_clinical) = 2),
               count(*) FILTER (WHERE {_DISAGREE})
        FROM defects d
        """
    ).fetchone()
    return {"open": row[0], "open_sev1": row[1], "open_sev2": row[2], "disagreeing": row[3]}


# Coverage of a wave -----------------------------------------------------------------------------


def _in_wave(alias: str) -> str:
    return f"(:wave IS NULL OR {rules.in_wave_scope(alias, '(:wave)')})"


def uncovered_decisions(
    conn: sqlite3.Connection, wave: str | None, limit: int = 500
) -> pd.DataFrame:
    """Decisions in the wave's scope, approved or further, that no test case covers."""
    return _frame(
        conn,
        f"""
        SELECT d.key, d.title, d.domain, d.module, d.criticality, d.stage,
               d.stage_since
        FROM decisions d
        WHERE d.stage IN ('approved', 'in_test', 'tested', 'ready')
          AND NOT EXISTS (SELECT 1 FROM test_case_decisions x WHERE x.decision = d.key)
          AND {_in_wave("d")}
        ORDER BY d.criticality = 'critical' DESC, d.stage_since, d.key
        LIMIT :limit
        """,
        {"wave": wave, "limit": limit},
    )


def never_run_cases(conn: sqlite3.Connection, wave: str | None, limit: int = 500) -> pd.DataFrame:
    """Test cases covering a decision in the wave's scope that were never run."""
    return _frame(
        conn,
        f"""
        SELECT tc.key, tc.title, tc.kind,
               (SELECT group_concat(decision, ';') FROM test_case_decisions x
                 WHERE x.test_case = tc.key) AS decisions
        FROM test_cases tc
        WHERE NOT EXISTS (SELECT 1 FROM test_runs r WHERE r.test_case = tc.key)
          AND EXISTS (SELECT 1 FROM test_case_decisions x JOIN decisions d ON d.key = x.decision
                      WHERE x.test_case = tc.key AND {_in_wave("d")})
        ORDER BY tc.key
        LIMIT :limit
        """,
        {"wave": wave, "limit": limit},
    )


def failing_decisions(
    conn: sqlite3.Connection, wave: str | None, limit: int = 500, *, tester: str | None = None
) -> pd.DataFrame:
    """Decisions in test whose covering test case's latest run of the current round failed or
    was blocked, with that run's defect (or the newest open defect of the case); a tester's
    own when `tester` is given."""
    return _frame(
        conn,
        f"""
        WITH counted AS (
            SELECT x.decision, tr.test_case, tr.date, tr.result, tr.defect, tr.id,
                   row_number() OVER (PARTITION BY x.decision, tr.test_case
                                      ORDER BY {rules.newest_first("tr.date", "tr.id")}) AS recency
            FROM decisions d
            JOIN test_case_decisions x ON x.decision = d.key
            JOIN test_runs tr ON tr.test_case = x.test_case
            WHERE d.stage = 'in_test' AND {rules.counts_from("tr.date", "d.built_at")}
              AND {_in_wave("d")} AND {_testers_own(":tester", "d.domain", "x.test_case")}
        ),
        failing AS (
            SELECT c.*, coalesce(c.defect, (
                SELECT f.key FROM defects f WHERE f.test_case = c.test_case AND f.status = 'open'
                ORDER BY f.opened DESC, f.key DESC LIMIT 1)) AS defect_key
            FROM counted c WHERE c.recency = 1 AND c.result IN ('failed', 'blocked')
        )
        SELECT d.key, d.title, d.domain, d.criticality, c.test_case,
               substr(c.date, 1, 10) AS run_date, c.result, c.defect_key AS defect,
               df.severity_vendor, df.severity_clinical, df.status AS defect_status
        FROM failing c
        JOIN decisions d ON d.key = c.decision
        LEFT JOIN defects df ON df.key = c.defect_key
        ORDER BY d.criticality = 'critical' DESC, d.key, c.test_case
        LIMIT :limit
        """,
        {"wave": wave, "limit": limit, "tester": tester},
    )


def coverage_counts(conn: sqlite3.Connection, wave: str | None) -> dict:
    """How many decisions of the wave are approved or further, and how many of them no test
    case covers."""
    row = conn.execute(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM test_case_decisions x WHERE x.decision = d.key))
        FROM decisions d
        WHERE d.stage IN ('approved', 'in_test', 'tested', 'ready') AND {_in_wave("d")}
        """,
        {"wave": wave},
    ).fetchone()
    return {"approved_or_later": row[0], "uncovered": row[1]}


# Suspect evidence -------------------------------------------------------------------------------


def suspect_evidence(conn: sqlite3.Connection, limit: int = 1000) -> pd.DataFrame:
    """Per revised decision: the demos, verdicts and test runs dated before its current
    version started (suspect), and whether new evidence of each kind exists since."""
    suspect = {
        date: f"NOT {rules.counts_from(date, 'd.version_started_at')}"
        for date in ("dm.date", "a.date", "tr.date")
    }
    new = {date: rules.counts_from(date, "d.version_started_at") for date in suspect}
    return _frame(
        conn,
        f"""
        WITH revised AS (
            SELECT d.key, d.title, d.domain, d.module, d.stage, d.version,
                   d.version_started_at,
                   (SELECT count(*) FROM demo_decisions x JOIN demos dm ON dm.key = x.demo
                     WHERE x.decision = d.key AND dm.held = 1
                       AND {suspect["dm.date"]}) AS suspect_demos,
                   (SELECT count(*) FROM demo_decisions x JOIN demos dm ON dm.key = x.demo
                     WHERE x.decision = d.key AND dm.held = 1
                       AND {new["dm.date"]}) AS new_demos,
                   (SELECT count(*) FROM approvals a
                     WHERE a.decision = d.key AND {suspect["a.date"]})
                       AS suspect_verdicts,
                   (SELECT count(*) FROM approvals a
                     WHERE a.decision = d.key AND {new["a.date"]}) AS new_verdicts,
                   (SELECT count(*) FROM test_case_decisions x
                     JOIN test_runs tr ON tr.test_case = x.test_case
                     WHERE x.decision = d.key AND {suspect["tr.date"]}) AS suspect_runs,
                   (SELECT count(*) FROM test_case_decisions x
                     JOIN test_runs tr ON tr.test_case = x.test_case
                     WHERE x.decision = d.key AND {new["tr.date"]}) AS new_runs
            FROM decisions d
            WHERE d.version_started_at IS NOT NULL AND d.stage <> 'withdrawn'
        )
        SELECT * FROM revised
        WHERE suspect_demos + suspect_verdicts + suspect_runs > 0
        ORDER BY version_started_at DESC, key
        LIMIT :limit
        """,
        {"limit": limit},
    )


# Names for codes --------------------------------------------------------------------------

# The entities whose records hold the names (store.records.COVERED): every change to one of
# them appends an event about that entity, in the change's transaction.
_NAMED_ENTITIES = ("organization", "forum", "domain", "module", "expert")


@dataclass(frozen=True)
class _KeptNames:
    event_id: int  # the last event when they were read: they are at least this new
    event_hash: str  # that event's chained hash: the whole log up to it
    names: Mapping[str, Mapping[str, str]]


_kept_names: dict[str, _KeptNames] = {}
_kept_names_guard = threading.Lock()


def code_names(conn: sqlite3.Connection) -> Mapping[str, Mapping[str, str]]:
    """Display names by code: {"organizations": {code: name}, "forums": {...}, "domains": {...},
    "modules": {...}, "people": {email: name}}, so a screen shows what a person reads, not the
    code. Read once per process and database, and again after an event about one of these
    records: every page run asks, and at ten times the demo's volume reading thousands of
    people cost a sixth of a busy process's CPU. Shared by every caller: read-only."""
    if conn.in_transaction:  # this connection's own changes may still be rolled back
        return _read_code_names(conn)
    database = conn.execute("PRAGMA database_list").fetchone()[2]
    event_id, event_hash = last_event(conn)  # before the names: they are at least as new
    with _kept_names_guard:
        kept = _kept_names.get(database)
    if kept is None or not _names_unchanged(conn, kept, event_id):
        kept = _KeptNames(event_id, event_hash, _read_code_names(conn))
    elif kept.event_id != event_id:
        kept = _KeptNames(event_id, event_hash, kept.names)
    with _kept_names_guard:
        _kept_names[database] = kept
    return kept.names


def _names_unchanged(conn: sqlite3.Connection, kept: _KeptNames, event_id: int) -> bool:
    """True when the log still holds the events the kept names were read after (not another
    database restored in its place), and no event since is about a record holding a name."""
    held = scalar(conn, "SELECT coalesce((SELECT hash FROM events WHERE id = ?), ?)",
                  (kept.event_id, GENESIS_HASH))  # fmt: skip
    if kept.event_id > event_id or held != kept.event_hash:
        return False
    marks = ", ".join("?" * len(_NAMED_ENTITIES))
    return not scalar(  # +entity: walk the few events since by id, not every expert's events
        conn,
        f"SELECT EXISTS (SELECT 1 FROM events WHERE id > ? AND id <= ? AND +entity IN ({marks}))",
        (kept.event_id, event_id, *_NAMED_ENTITIES),
    )


def _read_code_names(conn: sqlite3.Connection) -> Mapping[str, Mapping[str, str]]:
    names = {
        table: {r["code"]: r["name"] for r in rows(conn, f"SELECT code, name FROM {table}")}
        for table in ("organizations", "forums", "domains", "modules")
    }
    names["people"] = {r["email"]: r["name"] for r in rows(conn, "SELECT email, name FROM experts")}
    return MappingProxyType({kind: MappingProxyType(table) for kind, table in names.items()})


# A tester's own work ------------------------------------------------------------------------


def _testers_own(tester: str | None, domain: str, case: str) -> str:
    """A tester's own work (all when `tester` is NULL): nothing assigns test cases to testers,
    so a row is theirs when its decision is of one of their domains, or they created the test
    case, or they logged its latest run."""
    return f"""({tester} IS NULL
        OR {domain} IN (SELECT ed.domain FROM expert_domains ed WHERE ed.expert = {tester})
        OR EXISTS (SELECT 1 FROM events ev WHERE ev.entity = 'test_case'
                   AND ev.entity_key = {case} AND ev.action = 'created' AND ev.actor = {tester})
        OR (SELECT lr.tester FROM test_runs lr WHERE lr.id = {rules.latest_run_id(case)})
           = {tester})"""


def cases_to_run(
    conn: sqlite3.Connection, limit: int = 500, *, tester: str | None = None
) -> pd.DataFrame:
    """Approved or in-test decisions with a covering test case that has no run in the current
    build round: one row per decision and case, the soonest needed first; a tester's own when
    `tester` is given."""
    return _frame(
        conn,
        f"""
        SELECT d.key, d.title, d.stage, x.test_case, d.needed_by AS due
        FROM decisions d JOIN test_case_decisions x ON x.decision = d.key
        WHERE d.stage IN ('approved', 'in_test')
          AND NOT EXISTS (SELECT 1 FROM test_runs tr WHERE tr.test_case = x.test_case
                          AND {rules.counts_from("tr.date", "d.built_at")})
          AND {_testers_own(":tester", "d.domain", "x.test_case")}
        ORDER BY coalesce(d.needed_by, '9999'), d.key, x.test_case
        LIMIT :limit
        """,
        {"limit": limit, "tester": tester},
    )


def defects_to_verify(
    conn: sqlite3.Connection, limit: int = 500, *, tester: str | None = None
) -> pd.DataFrame:
    """Defects the vendor marked fixed, to verify by a new run: one row per defect with the
    decision it blocks, the most severe first; a tester's own when `tester` is given."""
    return _frame(
        conn,
        f"""
        SELECT d.key, d.title, f.key AS defect, f.test_case, f.severity_clinical,
               d.needed_by AS due
        FROM defects f JOIN decisions d ON d.key = coalesce(f.decision, (
            SELECT x.decision FROM test_case_decisions x WHERE x.test_case = f.test_case
            ORDER BY x.decision LIMIT 1))
        WHERE f.status = 'fixed'
          AND {_testers_own(":tester", "d.domain", "f.test_case")}
        ORDER BY f.severity_clinical, coalesce(d.needed_by, '9999'), f.key
        LIMIT :limit
        """,
        {"limit": limit, "tester": tester},
    )


def decisions_to_cover(
    conn: sqlite3.Connection, domains: Iterable[str], also: Iterable[str] = (), limit: int = 500
) -> dict[str, str]:
    """{key: title} of the decisions a new test case may cover, for a picker: built or
    further and not yet ready, of the given domains (all when none), the soonest needed
    first; and the decisions in `also`, whatever their stage."""
    domains, also = list(domains), list(also)
    stages = STAGES[STAGES.index("built") : STAGES.index("ready")]
    found = rows(
        conn,
        f"""
        SELECT key, title FROM decisions
        WHERE key IN ({",".join("?" * len(also))})
        UNION ALL
        SELECT * FROM (
            SELECT key, title FROM decisions
            WHERE stage IN ({",".join("?" * len(stages))})
              AND ({not domains:d} OR domain IN ({",".join("?" * len(domains))}))
            ORDER BY coalesce(needed_by, '9999'), key
            LIMIT ?)
        """,
        [*also, *stages, *domains, limit],
    )
    return {r["key"]: r["title"] for r in found}
