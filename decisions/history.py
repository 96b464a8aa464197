"""The programme as of a date, rebuilt from the event log and the evidence dates.

A decision's stage as of D is the to_value of its last 'created' or 'stage' event on or
before D (the whole day counts); test runs, defects, demos, approvals and measurements count
when dated on or before D. A wave's scope is the decisions affecting any of its organisations
(or all organisations), less those not yet created or withdrawn by then.

`prepare` turns the tables of `decisions.store.analytics.load_readiness_tables` into integer
arrays (positions of decisions, test cases and modules; day numbers), so that a date costs a
few vector operations however large the programme is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from decisions.model import ALL_STAGES, STAGE_RANK
from decisions.workflow import in_wave_scope

Tables = dict[str, pd.DataFrame]
STAGE_CODE = {stage: code for code, stage in enumerate(ALL_STAGES)}  # withdrawn is last
_STAGES = pd.Index(ALL_STAGES, dtype=object)  # position = STAGE_CODE
WITHDRAWN = STAGE_CODE["withdrawn"]
NOT_CREATED = -1
RESULT_CODE = {"passed": 0, "failed": 1, "blocked": 2}
RESULT_NAMES = np.array(["passed", "failed", "blocked"], dtype=object)
NEVER_RUN = -1
FAR = 10**7  # a day number after any date


def as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def day_number(value: dt.date | str) -> int:
    """The day number the loads use (date.toordinal)."""
    return as_date(value).toordinal()


def end_of_day(day: dt.date) -> str:
    """The last timestamp of a day, as the event log writes them."""
    return f"{day.isoformat()}T23:59:59"


def first_in_group(group: np.ndarray) -> np.ndarray:
    """For rows sorted by group: whether each is its group's first."""
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    return first


def weekly_dates(end: dt.date, weeks: int) -> list[dt.date]:
    """`weeks` + 1 dates a week apart, ending at `end`."""
    return [end - dt.timedelta(weeks=k) for k in range(weeks, -1, -1)]


def _days(column: pd.Series, missing: int) -> np.ndarray:
    return column.fillna(missing).to_numpy(dtype=np.int64)


def _objects(values: pd.Series) -> pd.Index:
    """The values as an index of Python objects: a plain array would be made an index of
    pandas' Arrow-backed strings on the way, at a cost per value."""
    return pd.Index(values.to_numpy(dtype=object), dtype=object)


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Positions in `index` of each value; -1 for a missing one (or None)."""
    return index.get_indexer(_objects(values))


def _next_day_in_group(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """For rows sorted by group then time: the day of the group's next row (FAR for the last)."""
    if not len(day):
        return day
    following = np.append(day[1:], FAR)
    last = np.append(group[1:] != group[:-1], True)
    return np.where(last, FAR, following)


@dataclass(frozen=True, eq=False)
class Programme:
    """The loaded tables and the arrays the time travel runs on. Stages are replayed backwards
    from the stored ones: a decision's stage at the end of D is the from-stage of its first
    stage event after D (not yet created, for a 'created' event), else its stored stage. So
    only the events after `since` are needed to go back to any date from `since` on."""

    tables: Tables
    since: int  # day number: the events after it are loaded
    stored: np.ndarray = field(repr=False)  # per decision: stored stage code
    created: np.ndarray = field(repr=False)  # per decision: creation day
    event_decision: np.ndarray = field(repr=False)  # per event: decision position
    event_day: np.ndarray = field(repr=False)
    event_from: np.ndarray = field(repr=False)  # stage code before the event
    event_to: np.ndarray = field(repr=False)  # stage code after it
    scope: dict[str, np.ndarray] = field(repr=False)  # wave -> bool per decision

    @property
    def decisions(self) -> pd.DataFrame:
        return self.tables["decisions"]

    def array(self, table: str, column: str) -> np.ndarray:
        return self.tables[table][column].to_numpy()


def _codes(stages: pd.Series) -> np.ndarray:
    """STAGE_CODE of each stage; NOT_CREATED (-1) for none."""
    return _STAGES.get_indexer(_objects(stages)).astype(np.int64)


def prepare(tables: Tables, since: dt.date | None = None) -> Programme:
    """The loaded tables (taken over, not copied) made ready for time travel; `since` is the
    day the stage events were loaded after (None: all of them)."""
    tables = dict(tables)
    decisions = tables["decisions"].reset_index(drop=True)
    decisions["critical"] = decisions["critical"].astype(bool)
    decisions["needed_day"] = _days(decisions["needed_day"], FAR)
    decisions["created_day"] = _days(decisions["created_day"], 0)
    tables["decisions"] = decisions
    keys = pd.Index(decisions["key"].to_numpy(), dtype=object)
    decisions["waves"] = _by_key(tables["decision_waves"], "waves", keys, 0)
    decisions["first_approval_day"] = _by_key(tables["first_approvals"], "day", keys, FAR)
    events = tables["stage_events"]
    events["decision"] = _positions(events["key"], keys)
    events = tables["stage_events"] = events[events["decision"] >= 0].reset_index(drop=True)
    _prepare_evidence(tables, decisions, keys)
    return Programme(
        tables=tables,
        since=0 if since is None else since.toordinal(),
        stored=_codes(decisions["stage"]),
        created=decisions["created_day"].to_numpy(),
        event_decision=events["decision"].to_numpy(dtype=np.int64),
        event_day=events["day"].to_numpy(dtype=np.int64),
        event_from=_codes(events["from_stage"]),
        event_to=_codes(events["stage"]),
        scope=_wave_scopes(tables),
    )


def _by_key(frame: pd.DataFrame, column: str, keys: pd.Index, missing: int) -> np.ndarray:
    """`column` of `frame` (one row per `key`) for each of `keys`; `missing` where none."""
    values = np.full(len(keys), missing, dtype=np.int64)
    at = _positions(frame["key"], keys)
    found = at >= 0
    values[at[found]] = _days(frame[column], missing)[found]
    return values


def _wave_scopes(tables: Tables) -> dict[str, np.ndarray]:
    """wave -> per decision, whether one of its organisations (or all) goes live in it."""
    bits = tables["decisions"]["waves"].to_numpy()
    everywhere = tables["decisions"]["all_organizations"].to_numpy()
    return {
        wave: in_wave_scope(everywhere, ((bits >> bit) & 1).astype(bool))
        for bit, wave in enumerate(sorted(tables["waves"]["code"]))
    }


def _prepare_evidence(tables: Tables, decisions: pd.DataFrame, keys: pd.Index) -> None:
    cases, modules = tables["test_cases"], tables["modules"]
    case_keys = pd.Index(cases["key"].to_numpy(), dtype=object)
    module_codes = pd.Index(modules["code"].to_numpy(), dtype=object)
    cases["created_day"] = _days(cases["created_day"], 0)
    coverage = tables["coverage"]
    coverage["case"] = _positions(coverage["test_case"], case_keys)
    coverage["decision"] = _positions(coverage["decision"], keys)
    runs = tables["test_runs"]
    runs["case"] = _positions(runs["test_case"], case_keys)
    runs["until"] = _next_day_in_group(runs["case"].to_numpy(dtype=np.int64), _days(runs["day"], 0))
    defects = tables["defects"]
    defects["worst"] = defects[["severity_vendor", "severity_clinical"]].min(axis=1)
    defects["decision_pos"] = _positions(defects["decision"], keys)
    defects["case"] = _positions(defects["test_case"], case_keys)
    defects["opened_day"] = _days(defects["opened_day"], 0)
    defects["closed_day"] = _days(defects["closed_day"], FAR)
    decisions["module_pos"] = _positions(decisions["module"], module_codes)
    first_demo = np.full(len(modules) + 1, FAR, dtype=np.int64)
    demos = tables["first_demos"]
    first_demo[_positions(demos["module"], module_codes)] = _days(demos["day"], FAR)
    modules["first_demo_day"] = first_demo[:-1]


# One date ---------------------------------------------------------------------------------------


def stages_on(programme: Programme, day: dt.date | str) -> np.ndarray:
    """Each decision's stage code at the end of `day` (NOT_CREATED before it was created)."""
    d = day_number(day)
    if d < programme.since:
        raise ValueError(
            f"the stage events were loaded from {dt.date.fromordinal(programme.since)}"
        )
    later = np.flatnonzero(programme.event_day > d)
    first = later[first_in_group(programme.event_decision[later])]
    stages = programme.stored.copy()
    stages[programme.event_decision[first]] = programme.event_from[first]
    stages[programme.created > d] = NOT_CREATED
    return stages


def case_results_on(programme: Programme, day: dt.date | str) -> tuple[np.ndarray, np.ndarray]:
    """Each test case's latest result code dated by `day` (NEVER_RUN when none) and the day
    of that run (-1 when none)."""
    d = day_number(day)
    runs = programme.tables["test_runs"]
    run_day = _days(runs["day"], 0)
    case = runs["case"].to_numpy(dtype=np.int64)
    current = (run_day <= d) & (runs["until"].to_numpy(dtype=np.int64) > d) & (case >= 0)
    results = np.full(len(programme.tables["test_cases"]), NEVER_RUN, dtype=np.int64)
    which = np.full(len(results), -1, dtype=np.int64)
    cases = case[current]
    results[cases] = runs["code"].to_numpy(dtype=np.int64)[current]
    which[cases] = run_day[current]
    return results, which


def defects_open_on(programme: Programme, day: dt.date | str) -> np.ndarray:
    """Defects open at the end of `day`: opened by then and not closed by then. One now fixed
    or closed counts as open on the days before its closing date; deferred ones never do."""
    d = day_number(day)
    f = programme.tables["defects"]
    opened = f["opened_day"].to_numpy() <= d
    closed_later = f["closed_day"].to_numpy() > d
    status = f["status"].to_numpy()
    still_open = (status == "open") & closed_later
    was_open = ((status == "fixed") | (status == "closed")) & closed_later
    has_close = f["closed_day"].to_numpy() < FAR
    return opened & (still_open | (was_open & has_close))


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The programme, or one wave of it, as it stood at the end of `as_of`: which decisions,
    test cases and defects count, with the stage and the latest result of each."""

    programme: Programme = field(repr=False)
    as_of: dt.date
    wave: str | None
    stage: np.ndarray = field(repr=False)  # per decision, the stage code
    in_scope: np.ndarray = field(repr=False)  # per decision: created, not withdrawn, in scope
    case_result: np.ndarray = field(repr=False)  # per test case: latest result code
    case_run: np.ndarray = field(repr=False)  # per test case: the day of that run
    case_in_scope: np.ndarray = field(repr=False)  # created and covering a decision in scope
    defect_in_scope: np.ndarray = field(repr=False)  # open and linked to the scope

    @property
    def day(self) -> int:
        return self.as_of.toordinal()

    @property
    def decisions(self) -> pd.DataFrame:
        """The decisions in scope (did, key, critical, needed_day, ...) with their stage."""
        frame = self.programme.decisions[self.in_scope]
        return frame.assign(stage=np.asarray(ALL_STAGES, dtype=object)[self.stage[self.in_scope]])

    @property
    def test_cases(self) -> pd.DataFrame:
        """key, result (None: never run) and run_date (of the latest run) of those in scope."""
        cases = self.programme.tables["test_cases"][self.case_in_scope]
        codes, days = self.case_result[self.case_in_scope], self.case_run[self.case_in_scope]
        return cases[["key"]].assign(
            result=np.where(codes >= 0, RESULT_NAMES[codes.clip(0)], None),
            run_date=[dt.date.fromordinal(int(d)).isoformat() if d > 0 else None for d in days],
        )

    @property
    def defects(self) -> pd.DataFrame:
        """The open defects linked to the scope: key, severities, worst, status, links."""
        return self.programme.tables["defects"][self.defect_in_scope]

    @property
    def measurements(self) -> pd.DataFrame:
        m = self.programme.tables["measurements"]
        return m[(m["wave"] == self.wave) & (_days(m["day"], 0) <= self.day)]


@dataclass(frozen=True, eq=False)
class Day:
    """What one date gives for the whole programme, shared by every wave's snapshot."""

    as_of: dt.date
    stages: np.ndarray  # per decision: stage code
    results: np.ndarray  # per test case: latest result code
    runs: np.ndarray  # per test case: the day of that run
    open_defects: np.ndarray  # per defect: open at the end of the day


def day_state(programme: Programme, day: dt.date | str) -> Day:
    results, runs = case_results_on(programme, day)
    return Day(
        as_date(day), stages_on(programme, day), results, runs, defects_open_on(programme, day)
    )


def snapshot(programme: Programme, day: dt.date | str, wave: str | None = None) -> Snapshot:
    """The programme (or one wave of it) as of `day`."""
    return scoped(programme, day_state(programme, day), wave)


def scoped(programme: Programme, day: Day, wave: str | None) -> Snapshot:
    """The part that counts for a wave (all decisions when `wave` is None): its decisions
    (created and not withdrawn), the test cases covering them, the defects linked to them
    directly or through such a test case."""
    alive = (day.stages != NOT_CREATED) & (day.stages != WITHDRAWN)
    in_scope = alive & programme.scope[wave] if wave is not None else alive
    tables = programme.tables
    cov = tables["coverage"]
    covering = np.zeros(len(tables["test_cases"]), dtype=bool)
    covered = cov["case"].to_numpy(dtype=np.int64)
    covering[covered[in_scope[cov["decision"].to_numpy(dtype=np.int64)]]] = True
    case_in_scope = covering & (
        tables["test_cases"]["created_day"].to_numpy() <= day.as_of.toordinal()
    )
    f = tables["defects"]
    by_decision = f["decision_pos"].to_numpy(dtype=np.int64)
    by_case = f["case"].to_numpy(dtype=np.int64)
    linked = np.where(by_decision >= 0, in_scope[by_decision.clip(0)], False) | np.where(
        by_case >= 0, case_in_scope[by_case.clip(0)], False
    )
    return Snapshot(
        programme=programme,
        as_of=day.as_of,
        wave=wave,
        stage=day.stages,
        in_scope=in_scope,
        case_result=day.results,
        case_run=day.runs,
        case_in_scope=case_in_scope,
        defect_in_scope=linked & day.open_defects,
    )


# Many dates -------------------------------------------------------------------------------------


def stage_counts_over(
    programme: Programme, dates: list[dt.date], scope: np.ndarray | None = None
) -> pd.DataFrame:
    """How many decisions stood at each stage at the end of each date: one row per date, one
    column per stage (withdrawn included). The first date is replayed; after it, each stage
    event moves one decision from its from-stage to its to-stage."""
    chosen = np.ones(len(programme.stored), dtype=bool) if scope is None else scope
    start = stages_on(programme, dates[0])[chosen]
    moves = chosen[programme.event_decision] & (programme.event_day > day_number(dates[0]))
    ends = np.array([day_number(d) for d in dates])
    counts = {}
    for stage, code in STAGE_CODE.items():
        entered = np.sort(programme.event_day[moves & (programme.event_to == code)])
        left = np.sort(programme.event_day[moves & (programme.event_from == code)])
        counts[stage] = (
            np.count_nonzero(start == code)
            + np.searchsorted(entered, ends, side="right")
            - np.searchsorted(left, ends, side="right")
        )
    return pd.DataFrame(counts, index=pd.Index(dates, name="date"))


def rank_at_least(codes: np.ndarray, floor: str) -> np.ndarray:
    """Stage codes at `floor` or further (withdrawn and not-created never are)."""
    return (codes >= STAGE_CODE[floor]) & (codes <= STAGE_RANK["ready"])
