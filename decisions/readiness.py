"""Go-live readiness: criteria, their evaluation as of a date, trends and forecasts.

The metric functions and the evaluation are pure: they take a `history.Snapshot` of one
wave (or plain values) and return numbers. `assess` loads the tables once and evaluates every
wave at the as-of date and at the weekly dates before it (the trend the forecasts use)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from decisions import history
from decisions.history import Snapshot, Tables
from decisions.model import STAGE_RANK

# The default criteria of SPEC.md section 4, created for every wave and editable per wave.
# (code, name, kind, metric, comparator, threshold)
DEFAULT_CRITERIA: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("C1", "Critical decisions ready", "computed", "critical_ready_pct", ">=", 100),
    ("C2", "Decisions approved or further", "computed", "approved_or_further_pct", ">=", 95),
    ("C3", "Proposals overdue", "computed", "overdue_proposed_count", "<=", 0),
    ("C4", "Test cases passed on latest run", "computed", "tests_passed_pct", ">=", 98),
    ("C4N", "Test cases never run", "computed", "tests_never_run_count", "<=", 0),
    ("C5", "Open severity-1 defects", "computed", "open_sev1_defects", "<=", 0),
    ("C5B", "Open severity-2 defects", "computed", "open_sev2_defects", "<=", 10),
    ("C6", "Modules without demo and approval", "computed", "modules_unapproved_count", "<=", 0),
    ("R7", "End users trained", "reported", "end_users_trained_pct", ">=", 90),
    ("R7S", "Super users per 10 end users", "reported", "super_users_per_10_users", ">=", 1),
    ("R8", "Technical dress rehearsal passed", "reported", "dress_rehearsal_passed", "==", 1),
    ("R8M", "Data migration rehearsal passed", "reported", "migration_rehearsal_passed", "==", 1),
)

COMPARATORS = (">=", "<=", "==")
STATUSES = ("met", "not_met", "waived", "no_data")
OUTLOOKS = ("on_track", "at_risk", "off_track", "no_data")
TREND_WEEKS = 8  # the sparkline
FORECAST_WEEKS = 4  # the recent rate the forecast extrapolates
AT_RISK_DAYS = 14  # met at the recent rate, but less than this before go-live
NEVER_DAYS = 5 * 365  # a forecast further out than this is "never at the current rate"


# Metrics: one wave's snapshot in, a number (or None: nothing to measure) out -------------------


def _pct(part: int, whole: int) -> float | None:
    # Truncated, not rounded, so that 99.997 % never shows (or counts) as 100 %.
    return None if whole == 0 else math.floor(10_000 * part / whole) / 100


def _rank(stages: pd.Series) -> pd.Series:
    return stages.map(STAGE_RANK).fillna(-1)


def critical_ready_pct(snap: Snapshot) -> float | None:
    critical = snap.decisions[snap.decisions["criticality"] == "critical"]
    return _pct(int((critical["stage"] == "ready").sum()), len(critical))


def approved_or_further_pct(snap: Snapshot) -> float | None:
    further = _rank(snap.decisions["stage"]) >= STAGE_RANK["approved"]
    return _pct(int(further.sum()), len(snap.decisions))


def _overdue(snap: Snapshot) -> pd.DataFrame:
    d = snap.decisions
    needed = d["needed_by"].fillna("").str.slice(0, 10)
    return d[(d["stage"] == "proposed") & (needed != "") & (needed < snap.as_of.isoformat())]


def overdue_proposed_count(snap: Snapshot) -> float:
    return len(_overdue(snap))


def tests_passed_pct(snap: Snapshot) -> float | None:
    cases = snap.test_cases
    return _pct(int((cases["result"] == "passed").sum()), len(cases))


def tests_never_run_count(snap: Snapshot) -> float:
    return int(snap.test_cases["result"].isna().sum())


def open_sev1_defects(snap: Snapshot) -> float:
    return int((snap.defects["worst"] == 1).sum())


def open_sev2_defects(snap: Snapshot) -> float:
    return int((snap.defects["worst"] == 2).sum())


def _module_evidence(snap: Snapshot) -> pd.DataFrame:
    """module, demo, approval: for each module of the wave's decisions, whether a held demo
    and an approving verdict are on record."""
    modules = pd.DataFrame({"module": sorted(snap.decisions["module"].unique())})
    approving = snap.approvals[snap.approvals["verdict"] == "approve"]
    approved = snap.decisions.loc[snap.decisions["key"].isin(approving["decision"]), "module"]
    modules["demo"] = modules["module"].isin(snap.demos["module"])
    modules["approval"] = modules["module"].isin(approved)
    return modules


def modules_unapproved_count(snap: Snapshot) -> float:
    modules = _module_evidence(snap)
    return int((~(modules["demo"] & modules["approval"])).sum())


METRICS: dict[str, Callable[[Snapshot], float | None]] = {
    f.__name__: f
    for f in (
        critical_ready_pct,
        approved_or_further_pct,
        overdue_proposed_count,
        tests_passed_pct,
        tests_never_run_count,
        open_sev1_defects,
        open_sev2_defects,
        modules_unapproved_count,
    )
}


# The records behind each number ---------------------------------------------------------------

_DECISION_COLUMNS = ["key", "title", "stage", "criticality", "domain", "module", "needed_by"]


def _decisions_below(snap: Snapshot, floor: str, critical_only: bool = False) -> pd.DataFrame:
    d = snap.decisions
    if critical_only:
        d = d[d["criticality"] == "critical"]
    return d[_rank(d["stage"]) < STAGE_RANK[floor]][_DECISION_COLUMNS].sort_values("key")


def _cases(snap: Snapshot, never_run_only: bool) -> pd.DataFrame:
    cases = snap.test_cases
    cases = cases[cases["result"].isna()] if never_run_only else cases[cases["result"] != "passed"]
    covers = snap.coverage.groupby("test_case")["decision"].agg(lambda s: ";".join(sorted(s)))
    out = cases[["key", "title", "kind", "result", "run_date"]].copy()
    out["result"] = out["result"].fillna("never run")
    out["decisions"] = out["key"].map(covers)
    return out.sort_values("key")


def _defects(snap: Snapshot, worst: int) -> pd.DataFrame:
    defects = snap.defects[snap.defects["worst"] == worst]
    columns = [
        "key",
        "title",
        "severity_vendor",
        "severity_clinical",
        "status",
        "decision",
        "test_case",
        "opened",
    ]
    out = defects[columns].copy()
    out["ratings_disagree"] = out["severity_vendor"] != out["severity_clinical"]
    return out.sort_values("key")


def severity_disagreements(snap: Snapshot) -> pd.DataFrame:
    """Open defects whose vendor and clinical ratings differ (the worse one counts)."""
    d = snap.defects
    columns = [
        "key",
        "title",
        "severity_vendor",
        "severity_clinical",
        "worst",
        "decision",
        "test_case",
    ]
    return d[d["severity_vendor"] != d["severity_clinical"]][columns].sort_values("key")


RECORDS: dict[str, Callable[[Snapshot], pd.DataFrame]] = {
    "critical_ready_pct": lambda s: _decisions_below(s, "ready", critical_only=True),
    "approved_or_further_pct": lambda s: _decisions_below(s, "approved"),
    "overdue_proposed_count": lambda s: _overdue(s)[_DECISION_COLUMNS].sort_values("needed_by"),
    "tests_passed_pct": lambda s: _cases(s, never_run_only=False),
    "tests_never_run_count": lambda s: _cases(s, never_run_only=True),
    "open_sev1_defects": lambda s: _defects(s, 1),
    "open_sev2_defects": lambda s: _defects(s, 2),
    "modules_unapproved_count": lambda s: _module_evidence(s).query("not (demo and approval)"),
}


# Criteria -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    kind: str
    metric: str
    comparator: str
    threshold: float
    owner: str | None = None
    waiver_reason: str | None = None
    waiver_until: str | None = None
    row_version: int | None = None


def default_criteria() -> list[Criterion]:
    return [Criterion(*row) for row in DEFAULT_CRITERIA]


def criteria_of(tables: Tables, wave: str) -> list[Criterion]:
    """The wave's criteria as stored, or the default set when it has none."""
    rows = tables["criteria"][tables["criteria"]["wave"] == wave]
    if rows.empty:
        return default_criteria()
    records = rows.drop(columns=["wave"]).astype(object).where(rows.notna(), None)
    return [Criterion(**r) for r in records.to_dict("records")]


def compare(value: float, comparator: str, threshold: float) -> bool:
    if comparator == ">=":
        return value >= threshold
    if comparator == "<=":
        return value <= threshold
    if comparator == "==":
        return math.isclose(value, threshold, abs_tol=1e-9)
    raise ValueError(f"comparator must be one of {', '.join(COMPARATORS)}, not {comparator!r}")


def waiver_active(reason: str | None, until: str | None, as_of: dt.date) -> bool:
    """A waiver counts when it has a reason and has not expired by the as-of date."""
    if not reason:
        return False
    return not until or str(until)[:10] >= as_of.isoformat()


def status(value: float | None, criterion: Criterion, as_of: dt.date) -> str:
    """met, waived (not met, or nothing to measure, under a waiver in force), no_data, not_met."""
    if value is not None and compare(value, criterion.comparator, criterion.threshold):
        return "met"
    if waiver_active(criterion.waiver_reason, criterion.waiver_until, as_of):
        return "waived"
    return "no_data" if value is None else "not_met"


def reported_value(measurements: pd.DataFrame, code: str) -> float | None:
    """The latest measurement of a reported criterion among those given (already dated)."""
    own = measurements[measurements["criterion"] == code]
    return None if own.empty else float(own["value"].iloc[-1])


def criterion_value(criterion: Criterion, snap: Snapshot) -> float | None:
    if criterion.kind == "reported":
        return reported_value(snap.measurements, criterion.code)
    metric = METRICS.get(criterion.metric)
    return None if metric is None else metric(snap)


# Forecasts ------------------------------------------------------------------------------------


def forecast(
    trend: list[tuple[dt.date, float | None]],
    comparator: str,
    threshold: float,
    weeks: int = FORECAST_WEEKS,
) -> dt.date | None:
    """The date the recent rate (a straight line fitted to the last `weeks` weeks) takes the
    latest value to the threshold. None when it is met already, or never will at that rate."""
    recent = [(day, value) for day, value in trend if value is not None]
    recent = [(d, v) for d, v in recent if d >= trend[-1][0] - dt.timedelta(weeks=weeks)]
    if not recent or recent[-1][0] != trend[-1][0]:
        return None
    last_day, last_value = recent[-1]
    if compare(last_value, comparator, threshold) or len(recent) < 2:
        return None
    days = np.array([(d - recent[0][0]).days for d, _ in recent], dtype=float)
    slope = float(np.polyfit(days, [v for _, v in recent], 1)[0])
    gap = threshold - last_value
    if abs(slope) < 1e-12 or (slope > 0) != (gap > 0):
        return None
    needed = math.ceil(round(gap / slope, 6))  # 14.000000001 days is 14 days
    return None if needed > NEVER_DAYS else last_day + dt.timedelta(days=needed)


def outlook(
    value: float | None,
    state: str,
    predicted: dt.date | None,
    go_live: dt.date,
    margin_days: int = AT_RISK_DAYS,
) -> str:
    """on_track: met, or met at the recent rate at least `margin_days` before go-live;
    at_risk: met at that rate, but closer to go-live than that; off_track: after go-live or
    never at that rate; no_data: nothing to measure. A waiver does not change the outlook."""
    if state == "met":
        return "on_track"
    if value is None:
        return "no_data"
    if predicted is None or predicted > go_live:
        return "off_track"
    return "at_risk" if predicted > go_live - dt.timedelta(days=margin_days) else "on_track"


def outlook_text(result: CriterionResult, go_live: dt.date) -> str:
    """The outlook in plain words, saying so when the current rate never gets there."""
    if result.status == "met":
        return "met"
    if result.value is None:
        return "no data"
    if result.forecast is None:
        return "never at the current rate"
    lead = (go_live - result.forecast).days
    when = f"{abs(lead)} days {'before' if lead >= 0 else 'after'} go-live"
    return f"met by {result.forecast.isoformat()} at the recent rate, {when}"


# Evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: float | None
    status: str
    forecast: dt.date | None
    outlook: str
    trend: tuple[tuple[dt.date, float | None], ...] = ()

    @property
    def code(self) -> str:
        return self.criterion.code

    @property
    def waived(self) -> bool:
        return self.status == "waived"


@dataclass(frozen=True)
class WaveReadiness:
    wave: str
    name: str
    go_live: dt.date
    as_of: dt.date
    criteria: tuple[CriterionResult, ...]
    snapshot: Snapshot = field(repr=False, compare=False)

    @property
    def go(self) -> bool:
        return all(c.status in ("met", "waived") for c in self.criteria)

    def result(self, code: str) -> CriterionResult:
        return next(c for c in self.criteria if c.code == code)

    def as_json(self) -> dict:
        """The FORMATS.md `readiness --json` object of this wave."""
        return {
            "wave": self.wave,
            "name": self.name,
            "go_live": self.go_live.isoformat(),
            "as_of": self.as_of.isoformat(),
            "go": self.go,
            "criteria": [
                {
                    "code": c.code,
                    "name": c.criterion.name,
                    "kind": c.criterion.kind,
                    "metric": c.criterion.metric,
                    "comparator": c.criterion.comparator,
                    "threshold": c.criterion.threshold,
                    "value": c.value,
                    "status": c.status,
                    "forecast": c.forecast.isoformat() if c.forecast else None,
                }
                for c in self.criteria
            ],
        }


def evaluate(
    tables: Tables,
    as_of: dt.date,
    waves: list[str] | None = None,
    weeks: int = TREND_WEEKS,
) -> list[WaveReadiness]:
    """Every wave's criteria (or those of `waves`) as of a date, with the weekly trend over
    `weeks` weeks up to it and the forecast from that trend. `tables` from `history.prepare`."""
    all_waves = tables["waves"].set_index("code")
    codes = list(all_waves.index) if waves is None else waves
    membership = history.wave_membership(tables)
    scope = {w: membership.loc[membership["wave"] == w, "decision"] for w in codes}
    criteria = {w: criteria_of(tables, w) for w in codes}
    values: dict[tuple[str, str], list[tuple[dt.date, float | None]]] = {}
    final: dict[str, Snapshot] = {}
    for day in history.weekly_dates(as_of, weeks):
        whole = history.snapshot(tables, day)
        for wave in codes:
            snap = history.scoped(whole, scope[wave], wave)
            for c in criteria[wave]:
                values.setdefault((wave, c.code), []).append((day, criterion_value(c, snap)))
            final[wave] = snap
    out = []
    for wave in codes:
        go_live = history.as_date(all_waves.loc[wave, "go_live"])
        results = []
        for c in criteria[wave]:
            trend = values[(wave, c.code)]
            value = trend[-1][1]
            state = status(value, c, as_of)
            predicted = forecast(trend, c.comparator, c.threshold)
            results.append(
                CriterionResult(
                    c,
                    value,
                    state,
                    predicted,
                    outlook(value, state, predicted, go_live),
                    tuple(trend),
                )
            )
        out.append(
            WaveReadiness(
                wave, str(all_waves.loc[wave, "name"]), go_live, as_of, tuple(results), final[wave]
            )
        )
    return out


def records(wave: WaveReadiness, code: str) -> pd.DataFrame:
    """The records behind a criterion's number: which decisions are not there yet, which
    test cases failed or never ran, which defects are open, which measurements were made."""
    result = wave.result(code)
    if result.criterion.kind == "reported":
        m = wave.snapshot.measurements
        own = m[m["criterion"] == code]
        return own[["date", "value", "reported_by", "evidence_url"]].iloc[::-1]
    show = RECORDS.get(result.criterion.metric)
    return pd.DataFrame() if show is None else show(wave.snapshot).reset_index(drop=True)


def burn_up(tables: Tables, wave: WaveReadiness, start: dt.date | None = None) -> pd.DataFrame:
    """date, series, count: the wave's scope and the decisions at approved-or-further and at
    ready, week by week up to the as-of date (from `start`, else the first stage event)."""
    membership = history.wave_membership(tables)
    keys = membership.loc[membership["wave"] == wave.wave, "decision"]
    events = tables["stage_events"]
    if start is None:
        first = events.loc[events["key"].isin(keys), "at"].min()
        start = history.as_date(first) if isinstance(first, str) else wave.as_of
    weeks = max(1, (wave.as_of - start).days // 7 + 1)
    counts = history.stage_counts_over(events, history.weekly_dates(wave.as_of, weeks), keys)
    further = [s for s, rank in STAGE_RANK.items() if rank >= STAGE_RANK["approved"]]
    series = pd.DataFrame(
        {
            "scope": counts[list(STAGE_RANK)].sum(axis=1),
            "approved or further": counts[further].sum(axis=1),
            "ready": counts["ready"],
        }
    )
    return series.reset_index().melt("date", var_name="series", value_name="count")


def burn_up_forecast(
    series: pd.DataFrame, go_live: dt.date, weeks: int = FORECAST_WEEKS
) -> pd.DataFrame:
    """date, series, count: each burn-up line carried on from the as-of date to go-live at its
    rate over the last `weeks` weeks (never beyond the scope)."""
    rows = []
    scope = series[series["series"] == "scope"].set_index("date")["count"]
    for name in ("approved or further", "ready"):
        line = series[series["series"] == name].set_index("date")["count"]
        last_day = line.index[-1]
        since = [d for d in line.index if d >= last_day - dt.timedelta(weeks=weeks)]
        days = max(1, (last_day - since[0]).days)
        rate = (line[last_day] - line[since[0]]) / days
        end = max(go_live, last_day)
        reach = min(scope.iloc[-1], line[last_day] + rate * (end - last_day).days)
        rows += [(last_day, name, float(line[last_day])), (end, name, float(reach))]
    return pd.DataFrame(rows, columns=["date", "series", "count"])


def assess(
    conn: sqlite3.Connection, as_of: dt.date | None = None, wave: str | None = None
) -> tuple[Tables, list[WaveReadiness]]:
    """Load the programme once and evaluate every wave (or one) as of a date (default: the
    programme's today). Raises LookupError for an unknown wave."""
    from decisions import services
    from decisions.store import analytics

    tables = history.prepare(analytics.load_readiness_tables(conn))
    if wave is not None and wave not in set(tables["waves"]["code"]):
        known = ", ".join(tables["waves"]["code"]) or "none"
        raise LookupError(f"unknown wave {wave!r} (waves: {known})")
    as_of = as_of or services.today(conn)
    return tables, evaluate(tables, as_of, None if wave is None else [wave])


# The command line ---------------------------------------------------------------------------


def _print_text(results: list[WaveReadiness]) -> None:
    for wave in results:
        verdict = "GO" if wave.go else "NO GO"
        print(f"{wave.wave} {wave.name}: go-live {wave.go_live}, as of {wave.as_of}: {verdict}")
        for c in wave.criteria:
            value = "-" if c.value is None else f"{c.value:g}"
            line = f"  {c.code:<4} {c.status:<8} {value:>8} {c.criterion.comparator} "
            line += f"{c.criterion.threshold:g}  {c.criterion.name}"
            if c.forecast:
                line += f"  (forecast {c.forecast})"
            print(line)


def cli_readiness(args: argparse.Namespace) -> int:
    """python -m decisions readiness [--wave CODE] [--as-of DATE] [--json]"""
    from decisions import store

    as_of = None
    if args.as_of:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            print(f"--as-of: {args.as_of!r} is not a date as YYYY-MM-DD", file=sys.stderr)
            return 1
    path = store.database_path(args.db)
    if not path.exists():
        print(f"{path}: no such database", file=sys.stderr)
        return 1
    try:
        _, results = assess(store.connect(path), as_of, args.wave)
    except LookupError as error:
        print(f"--wave: {error.args[0]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([w.as_json() for w in results], ensure_ascii=False, indent=2))
    else:
        _print_text(results)
    return 0
