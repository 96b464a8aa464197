"""The workflow's rules restated in SQL, each once, for the queries that must filter or count
in the database for speed. Each fragment names the Python rule it restates;
tests/test_one_rule.py compares the two over the demo programme. The subqueries use
aliases of their own (lv, lr, wo_d, wo_w, ao), so they can sit inside any query."""

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
    return f"""(SELECT lv.verdict FROM approvals lv
                 WHERE lv.decision = {decision} AND lv.expert = {expert}
                   AND {counts_from("lv.date", start)}
                 ORDER BY {newest_first("lv.date", "lv.id")} LIMIT 1)"""


def latest_run_id(case: str) -> str:
    """The id of the latest run of test case `case` (by time, then by id), or NULL."""
    return (
        f"(SELECT lr.id FROM test_runs lr WHERE lr.test_case = {case} "
        f"ORDER BY {newest_first('lr.date', 'lr.id')} LIMIT 1)"
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
        SELECT 1 FROM decision_organizations wo_d
        JOIN wave_organizations wo_w ON wo_w.organization = wo_d.organization
        WHERE wo_d.decision = {decision}.key AND wo_w.wave IN {waves}))"""


def affects_organization(decision: str, organizations: str) -> str:
    """Decision row `decision` affects one of the organisations of the SQL list
    `organizations`: all organisations, or one of its own."""
    return f"""({decision}.all_organizations = 1 OR EXISTS (
        SELECT 1 FROM decision_organizations ao
        WHERE ao.decision = {decision}.key AND ao.organization IN {organizations}))"""


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
