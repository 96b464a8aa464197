"""The workflow's rules restated in SQL, each once, for the queries that must filter or count
in the database for speed. Each fragment names the Python rule it restates;
tests/test_one_rule.py compares the two over the demo programme."""

from __future__ import annotations

from decisions.model import SIDE_OF_KIND
from decisions.workflow import OVERDUE_STAGE


def norm_time(column: str) -> str:
    """workflow.norm_time: a date or timestamp as sortable 'YYYY-MM-DDTHH:MM:SS' (NULL stays)."""
    return (
        f"(CASE WHEN length({column}) = 10 THEN {column} || 'T00:00:00' "
        f"ELSE substr(replace({column}, ' ', 'T'), 1, 19) END)"
    )


def counts_from(date: str, start: str) -> str:
    """workflow.counts_from: evidence dated `date` counts in the round that began at `start`
    (every piece counts when no round has begun)."""
    return f"({start} IS NULL OR {norm_time(date)} >= {norm_time(start)})"


def newest_first(date: str, seq: str) -> str:
    """workflow.evidence_order reversed, for ORDER BY: the latest verdict or run first."""
    return f"{norm_time(date)} DESC, {seq} DESC"


def latest_verdict(decision: str, expert: str, start: str) -> str:
    """workflow.latest_verdicts for one expert: the verdict of `expert` on `decision` that
    counts in the round begun at `start` (the latest by time, then by id), or NULL."""
    return f"""(SELECT a.verdict FROM approvals a
                 WHERE a.decision = {decision} AND a.expert = {expert}
                   AND {counts_from("a.date", start)}
                 ORDER BY {newest_first("a.date", "a.id")} LIMIT 1)"""


def latest_run_id(case: str) -> str:
    """The id of the latest run of test case `case` (by time, then by id), or NULL."""
    return (
        f"(SELECT tr.id FROM test_runs tr WHERE tr.test_case = {case} "
        f"ORDER BY {newest_first('tr.date', 'tr.id')} LIMIT 1)"
    )


def side_of(kind: str) -> str:
    """workflow.side_of (model.SIDE_OF_KIND): the side an organisation kind speaks for."""
    whens = " ".join(f"WHEN '{k}' THEN '{side}'" for k, side in SIDE_OF_KIND.items())
    return f"(CASE {kind} {whens} END)"


def in_wave_scope(decision: str, waves: str) -> str:
    """workflow.in_wave_scope: decision row `decision` (an alias) counts for a wave of the SQL
    list `waves` (e.g. '(:wave)', '(?, ?)'): it affects all organisations, or one of its
    organisations goes live in the wave."""
    return f"""({decision}.all_organizations = 1 OR EXISTS (
        SELECT 1 FROM decision_organizations o
        JOIN wave_organizations w ON w.organization = o.organization
        WHERE o.decision = {decision}.key AND w.wave IN {waves}))"""


def affects_organization(decision: str, organizations: str) -> str:
    """Decision row `decision` affects one of the organisations of the SQL list
    `organizations`: all organisations, or one of its own."""
    return f"""({decision}.all_organizations = 1 OR EXISTS (
        SELECT 1 FROM decision_organizations o
        WHERE o.decision = {decision}.key AND o.organization IN {organizations}))"""


def is_overdue(decision: str, today: str) -> str:
    """workflow.is_overdue: decision row `decision` is a proposal still undecided after its
    needed-by date (`today` an SQL value 'YYYY-MM-DD')."""
    return (
        f"({decision}.stage = '{OVERDUE_STAGE}' AND {decision}.needed_by <> '' "
        f"AND {decision}.needed_by < {today})"
    )


def days_overdue(decision: str, today: str) -> str:
    """Whole days from decision row `decision`'s needed-by date to `today`."""
    return f"CAST(julianday({today}) - julianday(substr({decision}.needed_by, 1, 10)) AS INTEGER)"
