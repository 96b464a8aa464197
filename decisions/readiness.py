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

from decisions import history, i18n, words
from decisions.history import STAGE_CODE, Programme, Snapshot
from decisions.i18n import _
from decisions.model import FORECAST_HORIZON_WEEKS
from decisions.workflow import OVERDUE_STAGE, is_overdue

# The default criteria of SPEC.md section 4, created for every wave and editable per wave,
# named as words.CRITERION_NAME_WORDS names them. (code, kind, metric, comparator, threshold)
_DEFAULTS: tuple[tuple[str, str, str, str, float], ...] = (
    ("C1", "computed", "critical_ready_pct", ">=", 100),
    ("C2", "computed", "approved_or_further_pct", ">=", 95),
    ("C3", "computed", "overdue_proposed_count", "<=", 0),
    ("C4", "computed", "tests_passed_pct", ">=", 98),
    ("C4N", "computed", "tests_never_run_count", "<=", 0),
    ("C5", "computed", "open_sev1_defects", "<=", 0),
    ("C5B", "computed", "open_sev2_defects", "<=", 10),
    ("C6", "computed", "modules_unapproved_count", "<=", 0),
    ("R7", "reported", "end_users_trained_pct", ">=", 90),
    ("R7S", "reported", "super_users_per_10_users", ">=", 1),
    ("R8", "reported", "dress_rehearsal_passed", "==", 1),
    ("R8M", "reported", "migration_rehearsal_passed", "==", 1),
)
# (code, name, kind, metric, comparator, threshold)
DEFAULT_CRITERIA: tuple[tuple[str, str, str, str, str, float], ...] = tuple(
    (code, words.CRITERION_NAME_WORDS[code], *rest) for code, *rest in _DEFAULTS
)

COMPARATORS = (">=", "<=", "==")
TREND_WEEKS = 8  # the sparkline
FORECAST_WEEKS = 8  # the recent rate the forecast extrapolates
BURN_UP_WEEKS = 26
AT_RISK_DAYS = 14  # met at the recent rate within this many days of go-live, either side
# Why a criterion has the forecast it has: a date, or why none.
FORECAST_CODES = ("date", "met", "no_data", "too_few_values", "never", "beyond_horizon")


# Metrics: one wave's snapshot in, a number (or None: nothing to measure) out -------------------


def _pct(part: int, whole: int) -> float | None:
    # Truncated, not rounded, so that 99.997 % never shows (or counts) as 100 %.
    return None if whole == 0 else math.floor(10_000 * part / whole) / 100


def _count(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


def critical_ready_pct(snap: Snapshot) -> float | None:
    critical = snap.in_scope & snap.programme.array("decisions", "critical")
    return _pct(_count(critical & (snap.stage == STAGE_CODE["ready"])), _count(critical))


def approved_or_further_pct(snap: Snapshot) -> float | None:
    further = snap.in_scope & history.rank_at_least(snap.stage, "approved")
    return _pct(_count(further), _count(snap.in_scope))


def _overdue(snap: Snapshot) -> np.ndarray:
    needed = snap.programme.array("decisions", "needed_day")
    return snap.in_scope & is_overdue(
        snap.stage, needed, snap.day, proposed=STAGE_CODE[OVERDUE_STAGE]
    )


def overdue_proposed_count(snap: Snapshot) -> float:
    return _count(_overdue(snap))


def tests_passed_pct(snap: Snapshot) -> float | None:
    passed = snap.case_in_scope & (snap.case_result == history.RESULT_CODE["passed"])
    return _pct(_count(passed), _count(snap.case_in_scope))


def tests_never_run_count(snap: Snapshot) -> float:
    return _count(snap.case_in_scope & (snap.case_result == history.NEVER_RUN))


def _worst(snap: Snapshot, severity: int) -> np.ndarray:
    return snap.defect_in_scope & (snap.programme.array("defects", "worst") == severity)


def open_sev1_defects(snap: Snapshot) -> float:
    return _count(_worst(snap, 1))


def open_sev2_defects(snap: Snapshot) -> float:
    return _count(_worst(snap, 2))


def _module_flags(snap: Snapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per module: used by a decision in scope; shown in a held demo; approved (an approving
    verdict on one of those decisions) - all by the as-of date."""
    modules, decisions = snap.programme.tables["modules"], snap.programme.decisions
    of_decision = decisions["module_pos"].to_numpy(dtype=np.int64)
    used = np.bincount(of_decision[snap.in_scope], minlength=len(modules)) > 0
    approving = snap.in_scope & (decisions["first_approval_day"].to_numpy() <= snap.day)
    approved = np.bincount(of_decision[approving], minlength=len(modules)) > 0
    shown = modules["first_demo_day"].to_numpy() <= snap.day
    return used, shown, approved


def _module_evidence(snap: Snapshot) -> pd.DataFrame:
    """module, name, demo, approval: for each module of the wave's decisions, whether a held
    demo of it and an approving verdict on one of those decisions are on record."""
    used, shown, approved = _module_flags(snap)
    out = snap.programme.tables["modules"][used][["code", "name"]]
    out = out.rename(columns={"code": "module"})
    return out.assign(demo=shown[used], approval=approved[used]).reset_index(drop=True)


def modules_unapproved_count(snap: Snapshot) -> float:
    used, shown, approved = _module_flags(snap)
    return _count(used & ~(shown & approved))


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
# Each gives the rows behind a number by id; `records` adds their details from the store.


def _decisions_below(snap: Snapshot, floor: str, critical_only: bool = False) -> pd.DataFrame:
    chosen = snap.in_scope & ~history.rank_at_least(snap.stage, floor)
    if critical_only:
        chosen &= snap.programme.array("decisions", "critical")
    return _decisions(snap, chosen)


def _decisions(snap: Snapshot, chosen: np.ndarray) -> pd.DataFrame:
    stage = np.asarray(history.ALL_STAGES, dtype=object)[snap.stage[chosen]]
    return pd.DataFrame({"decision": snap.programme.array("decisions", "key")[chosen],
                         "stage": stage})  # fmt: skip


def _cases(snap: Snapshot, never_run_only: bool) -> pd.DataFrame:
    cases = snap.test_cases.rename(columns={"key": "test_case"})
    return cases[cases["result"].isna()] if never_run_only else cases[cases["result"] != "passed"]


def _defects(snap: Snapshot, worst: int) -> pd.DataFrame:
    return snap.programme.tables["defects"][_worst(snap, worst)][["key"]].rename(
        columns={"key": "defect"}
    )


def _disagreeing(snap: Snapshot) -> pd.DataFrame:
    d = snap.defects
    return d[d["severity_vendor"] != d["severity_clinical"]][["key"]].rename(
        columns={"key": "defect"}
    )


RECORDS: dict[str, Callable[[Snapshot], pd.DataFrame]] = {
    "critical_ready_pct": lambda s: _decisions_below(s, "ready", critical_only=True),
    "approved_or_further_pct": lambda s: _decisions_below(s, "approved"),
    "overdue_proposed_count": lambda s: _decisions(s, _overdue(s)),
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
    waived_at: str | None = None  # when the waiver in force was granted (the event log)
    waived_by: str | None = None  # who granted it (the same event)


def default_criteria() -> list[Criterion]:
    return [Criterion(*row) for row in DEFAULT_CRITERIA]


def criteria_of(programme: Programme, wave: str) -> list[Criterion]:
    """The wave's criteria as stored, or the default set when it has none."""
    stored = programme.tables["criteria"]
    rows = stored[stored["wave"] == wave]
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


def waiver_active(
    reason: str | None, until: str | None, as_of: dt.date, granted: str | None = None
) -> bool:
    """A waiver counts when it has a reason, was granted by the as-of date (when the log says
    when it was) and has not expired by then."""
    day = as_of.isoformat()
    if not reason or (granted and str(granted)[:10] > day):
        return False
    return not until or str(until)[:10] >= day


def status(value: float | None, criterion: Criterion, as_of: dt.date) -> str:
    """met, waived (not met, or nothing to measure, under a waiver in force), no_data, not_met."""
    if value is not None and compare(value, criterion.comparator, criterion.threshold):
        return "met"
    if waiver_active(criterion.waiver_reason, criterion.waiver_until, as_of, criterion.waived_at):
        return "waived"
    return "no_data" if value is None else "not_met"


Measured = dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]


def measured(programme: Programme) -> Measured:
    """(wave, criterion) -> the days and values of its measurements, in date order."""
    m = programme.tables["measurements"]
    return {
        (wave, code): (group["day"].to_numpy(), group["value"].to_numpy(dtype=float))
        for (wave, code), group in m.groupby(["wave", "criterion"], sort=False)
    }


def reported_value(series: tuple[np.ndarray, np.ndarray] | None, day: int) -> float | None:
    """The latest measured value dated on or before `day`, or None."""
    if series is None:
        return None
    days, values = series
    found = int(np.searchsorted(days, day, side="right"))
    return None if found == 0 else float(values[found - 1])


def criterion_value(criterion: Criterion, snap: Snapshot, values: Measured) -> float | None:
    if criterion.kind == "reported":
        return reported_value(values.get((snap.wave, criterion.code)), snap.day)
    metric = METRICS.get(criterion.metric)
    return None if metric is None else metric(snap)


# Forecasts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """When the recent trend reaches the target: `date`, or None with `code` saying why (met
    already, no value now, too few values for a trend, never at that rate, or later than the
    horizon after go-live)."""

    date: dt.date | None
    code: str


def horizon(go_live: dt.date) -> dt.date:
    """The last day a forecast may fall on to be a date: FORECAST_HORIZON_WEEKS after go-live."""
    return go_live + dt.timedelta(weeks=FORECAST_HORIZON_WEEKS)


def forecast(
    trend: list[tuple[dt.date, float | None]] | tuple[tuple[dt.date, float | None], ...],
    comparator: str,
    threshold: float,
    go_live: dt.date,
    weeks: int = FORECAST_WEEKS,
) -> Forecast:
    """The one forecast rule: the date the recent rate (a straight line fitted to the last
    `weeks` weeks) takes the latest value to the threshold, within the horizon after go-live."""
    if not trend:
        return Forecast(None, "no_data")
    recent = [(day, value) for day, value in trend if value is not None]
    recent = [(d, v) for d, v in recent if d >= trend[-1][0] - dt.timedelta(weeks=weeks)]
    if not recent or recent[-1][0] != trend[-1][0]:
        return Forecast(None, "no_data")
    last_day, last_value = recent[-1]
    if compare(last_value, comparator, threshold):
        return Forecast(None, "met")
    if len(recent) < 2:
        return Forecast(None, "too_few_values")
    days = np.array([(d - recent[0][0]).days for d, _value in recent], dtype=float)
    slope = float(np.polyfit(days, [v for _day, v in recent], 1)[0])
    gap = threshold - last_value
    if abs(slope) < 1e-12 or (slope > 0) != (gap > 0):
        return Forecast(None, "never")
    needed = math.ceil(round(gap / slope, 6))  # 14.000000001 days is 14 days
    if needed > (horizon(go_live) - last_day).days:
        return Forecast(None, "beyond_horizon")
    return Forecast(last_day + dt.timedelta(days=needed), "date")


def outlook(
    value: float | None,
    state: str,
    predicted: dt.date | None,
    go_live: dt.date,
    margin_days: int = AT_RISK_DAYS,
) -> str:
    """on_track: met, or met at the recent rate more than `margin_days` before go-live;
    at_risk: met at that rate within `margin_days` of go-live, before or after (a push can
    still make it); off_track: later than that, or never at that rate; no_data: nothing to
    measure. A waiver does not change the outlook."""
    if state == "met":
        return "on_track"
    if value is None:
        return "no_data"
    if predicted is None or predicted > go_live + dt.timedelta(days=margin_days):
        return "off_track"
    return "at_risk" if predicted > go_live - dt.timedelta(days=margin_days) else "on_track"


def outlook_before(result: CriterionResult, go_live: dt.date) -> str | None:
    """The outlook the criterion had at its trend's previous weekly point (a week before), by
    the same rules; None when the trend has no earlier point."""
    trend = list(result.trend[:-1])
    if not trend:
        return None
    day, value = trend[-1]
    criterion = result.criterion
    predicted = forecast(trend, criterion.comparator, criterion.threshold, go_live).date
    return outlook(value, status(value, criterion, day), predicted, go_live)


# Presentation helpers: plain values the pages put into words ------------------------------------


def unit(metric: str) -> str:
    """The unit a criterion's value and threshold are in: "%" for a percentage, else ""."""
    return "%" if metric.endswith("_pct") else ""


def forecast_for(result: CriterionResult, go_live: dt.date) -> Forecast:
    """The criterion's forecast were go-live on `go_live` (a re-plan's preview): the same rule
    over the same trend, with that date's horizon."""
    c = result.criterion
    return forecast(result.trend, c.comparator, c.threshold, go_live)


def outlook_on(result: CriterionResult, day: dt.date) -> str:
    """The criterion's outlook were go-live on `day` (a re-plan's preview), by the rule of
    `outlook`."""
    return outlook(result.value, result.status, forecast_for(result, day).date, day)


def met_by(result: CriterionResult, day: dt.date) -> bool:
    """Met now, or forecast at the recent rate to be met on or before `day`."""
    predicted = forecast_for(result, day).date
    return result.status == "met" or (predicted is not None and predicted <= day)


# Evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: float | None
    status: str
    forecast: dt.date | None
    outlook: str
    trend: tuple[tuple[dt.date, float | None], ...] = ()
    forecast_code: str = "date"  # why `forecast` is None (FORECAST_CODES)

    @property
    def code(self) -> str:
        return self.criterion.code

    @property
    def waived(self) -> bool:
        return self.status == "waived"

    @property
    def cleared(self) -> bool:
        """Met or waived: no obstacle to go-live."""
        return self.status in ("met", "waived")


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
        return all(c.cleared for c in self.criteria)

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
    programme: Programme,
    as_of: dt.date,
    waves: list[str] | None = None,
    weeks: int = TREND_WEEKS,
) -> list[WaveReadiness]:
    """Every wave's criteria (or those of `waves`) as of a date, with the weekly trend over
    `weeks` weeks up to it and the forecast from that trend."""
    all_waves = programme.tables["waves"].set_index("code")
    codes = list(all_waves.index) if waves is None else waves
    criteria = {w: criteria_of(programme, w) for w in codes}
    values = measured(programme)
    trends: dict[tuple[str, str], list[tuple[dt.date, float | None]]] = {}
    final: dict[str, Snapshot] = {}
    for day in history.weekly_dates(as_of, weeks):
        state = history.day_state(programme, day)
        for wave in codes:
            snap = history.scoped(programme, state, wave)
            for c in criteria[wave]:
                trends.setdefault((wave, c.code), []).append(
                    (day, criterion_value(c, snap, values))
                )
            final[wave] = snap
    out = []
    for wave in codes:
        go_live = history.as_date(all_waves.loc[wave, "go_live"])
        results = tuple(_result(c, trends[(wave, c.code)], as_of, go_live) for c in criteria[wave])
        name = str(all_waves.loc[wave, "name"])
        out.append(WaveReadiness(wave, name, go_live, as_of, results, final[wave]))
    return out


def _result(
    criterion: Criterion,
    trend: list[tuple[dt.date, float | None]],
    as_of: dt.date,
    go_live: dt.date,
) -> CriterionResult:
    value = trend[-1][1]
    state = status(value, criterion, as_of)
    predicted = forecast(trend, criterion.comparator, criterion.threshold, go_live)
    return CriterionResult(
        criterion,
        value,
        state,
        predicted.date,
        outlook(value, state, predicted.date, go_live),
        tuple(trend),
        predicted.code,
    )


def records(conn: sqlite3.Connection, wave: WaveReadiness, code: str) -> pd.DataFrame:
    """The records behind a criterion's number: which decisions are not there yet, which
    test cases failed or never ran, which defects are open, which modules lack evidence,
    which measurements were reported."""
    result = wave.result(code)
    if result.criterion.kind == "reported":
        m = wave.snapshot.measurements
        own = m[m["criterion"] == code]
        return own[["date", "value", "reported_by", "evidence_url"]].iloc[::-1]
    show = RECORDS.get(result.criterion.metric)
    if show is None:
        return pd.DataFrame()
    return with_details(conn, show(wave.snapshot)).reset_index(drop=True)


def severity_disagreements(conn: sqlite3.Connection, wave: WaveReadiness) -> pd.DataFrame:
    """Open defects in the wave whose vendor and clinical ratings differ (the worse counts)."""
    return with_details(conn, _disagreeing(wave.snapshot))


_SHOWN = {
    "decision": ["key", "title", "stage", "criticality", "domain", "module", "needed_by",
                 "owner"],
    "test_case": ["key", "title", "kind", "result", "run_date", "decisions"],
    "defect": ["key", "title", "severity_vendor", "severity_clinical", "ratings_disagree",
               "status", "decision", "test_case", "opened", "closed"],
}  # fmt: skip
_DETAILS = {"decision": "decisions", "test_case": "test_cases", "defect": "defects"}


def with_details(conn: sqlite3.Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of decision, test_case or defect keys, with the columns a person reads (codes;
    a test case never run has no result)."""
    from decisions.store import analytics

    kind = next((c for c in _DETAILS if c in rows.columns), None)
    if kind is None:
        return rows
    found = analytics.details(conn, _DETAILS[kind], list(rows[kind]))
    if kind == "defect":
        out = rows.rename(columns={"defect": "key"}).merge(found, on="key")
        out["ratings_disagree"] = out["severity_vendor"] != out["severity_clinical"]
    else:
        out = rows.rename(columns={kind: "key"}).merge(found, on="key")
    return out[_SHOWN[kind]].sort_values("key", ignore_index=True)


def stages_per_wave(waves: list[WaveReadiness]) -> pd.DataFrame:
    """wave, name, stage, decisions: how many of each wave's decisions in scope stand at each
    stage on its evaluation date (withdrawn ones are out of scope), waves in the given order."""
    rows = []
    for wave in waves:
        snap = wave.snapshot
        codes, counts = np.unique(snap.stage[snap.in_scope], return_counts=True)
        rows += [
            (wave.wave, wave.name, history.ALL_STAGES[c], int(n))
            for c, n in zip(codes, counts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["wave", "name", "stage", "decisions"])


def burn_up(programme: Programme, wave: WaveReadiness, weeks: int) -> pd.DataFrame:
    """date, series, count: the wave's scope and the decisions at approved-or-further and at
    ready, week by week over `weeks` weeks up to the as-of date."""
    scope = programme.scope[wave.wave]
    counts = history.stage_counts_over(programme, history.weekly_dates(wave.as_of, weeks), scope)
    further = [s for s, code in STAGE_CODE.items() if history.rank_at_least(code, "approved")]
    series = pd.DataFrame(
        {
            "scope": counts.drop(columns=["withdrawn"]).sum(axis=1),
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
    conn: sqlite3.Connection,
    as_of: dt.date | None = None,
    wave: str | None = None,
    weeks: int = TREND_WEEKS,
) -> tuple[Programme, list[WaveReadiness]]:
    """Load the programme once and evaluate every wave (or one) as of a date (default: the
    programme's today), with history enough to go `weeks` weeks further back (for the
    burn-up). Raises LookupError for an unknown wave."""
    from decisions import services
    from decisions.store import analytics

    as_of = as_of or services.today(conn)
    since = as_of - dt.timedelta(weeks=max(weeks, TREND_WEEKS))
    programme = history.prepare(analytics.load_readiness_tables(conn, since), since)
    if wave is not None and wave not in programme.scope:
        known = ", ".join(programme.scope) or _("none")
        raise LookupError(_("unknown wave {wave!r} (waves: {known})", wave=wave, known=known))
    return programme, evaluate(programme, as_of, None if wave is None else [wave])


# The command line ---------------------------------------------------------------------------


def text_lines(results: list[WaveReadiness]) -> list[str]:
    """`readiness` without --json: each wave's verdict and criteria in the reader's language,
    the forecast worded as on the page and in the notices."""
    lines = []
    for wave in results:
        lines.append(words.wave_verdict_line(wave.wave, wave.name, wave.go_live, wave.as_of,
                                             wave.go))  # fmt: skip
        for c in wave.criteria:
            value = "-" if c.value is None else i18n.format_number(c.value)
            line = f"  {c.code:<4} {words.status_word(c.status):<12} {value:>8} "
            line += f"{c.criterion.comparator} {i18n.format_number(c.criterion.threshold)}  "
            line += words.criterion_name(c.code, c.criterion.name)
            if c.status != "met" and c.forecast_code == "no_data":
                line += f"  [{words.outlook_word(c.outlook)}]"
            elif c.status != "met":
                forecast = words.outlook_text(c.forecast_code, c.forecast, wave.go_live)
                line += f"  [{words.outlook_word(c.outlook)}: {forecast}]"
            lines.append(line)
    return lines


GO_NO_GO_FIELDS = ("outcome", "meeting_date", "forum", "minutes", "conditions", "criteria",
                   "recorded_by", "recorded_at")  # fmt: skip


def go_no_go_json(conn: sqlite3.Connection) -> dict[str, dict]:
    """{wave: its latest go/no-go decision} as `readiness --json` adds it to each wave."""
    from decisions.store import analytics

    return {
        wave: {f: record[f] for f in GO_NO_GO_FIELDS}
        for wave, record in analytics.latest_go_no_go(conn).items()
    }


def cli_readiness(args: argparse.Namespace) -> int:
    """python -m decisions readiness [--wave CODE] [--as-of DATE] [--json]"""
    from decisions import store

    as_of = None
    if args.as_of:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            print(_("--as-of: {given!r} is not a date as YYYY-MM-DD", given=args.as_of),
                  file=sys.stderr)  # fmt: skip
            return 1
    path = store.database_path(args.db)
    if not path.exists():
        print(_("{path}: no such database", path=path), file=sys.stderr)
        return 1
    try:
        conn = store.connect(path)
        _programme, results = assess(conn, as_of, args.wave)
    except LookupError as error:
        print(_("--wave: {error}", error=error.args[0]), file=sys.stderr)
        return 1
    if args.json:
        latest = go_no_go_json(conn)
        waves = [{**w.as_json(), "go_no_go": latest.get(w.wave)} for w in results]
        print(json.dumps(waves, ensure_ascii=False, indent=2))
    else:
        print("\n".join(text_lines(results)))
    return 0
