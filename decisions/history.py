"""The programme as of a date, rebuilt from the event log and the evidence dates.

A decision's stage as of D is the to_value of its last 'created' or 'stage' event at or
before the end of D; test runs, defects, demos, approvals and measurements count when dated
on or before D. A wave's scope is the decisions affecting any of its organisations (or all
organisations), less those withdrawn by then. Pure functions over the DataFrames that
`decisions.store.analytics.load_readiness_tables` returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from decisions.model import ALL_STAGES, WITHDRAWN

Tables = dict[str, pd.DataFrame]


def cutoff(day: dt.date | str) -> str:
    """The last moment of a day, comparable with normalised timestamps."""
    return f"{str(day)[:10]}T23:59:59"


def as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def prepare(tables: Tables) -> Tables:
    """The loaded tables made ready for time travel: a decision without any stage event
    (data from before the log) is taken to have been at its stored stage since it was
    created, and each defect gets its worse severity."""
    tables = dict(tables)
    decisions, events = tables["decisions"], tables["stage_events"]
    missing = decisions[~decisions["key"].isin(events["key"])]
    if len(missing):
        synthetic = pd.DataFrame(
            {
                "key": missing["key"],
                "at": missing["created_at"].str.slice(0, 19),
                "stage": missing["stage"],
                "id": 0,
            }
        )
        events = pd.concat([events, synthetic], ignore_index=True)
        events = events.sort_values(["at", "id"], kind="stable", ignore_index=True)
    tables["stage_events"] = events
    defects = tables["defects"].copy()
    defects["worst"] = defects[["severity_vendor", "severity_clinical"]].min(axis=1)
    tables["defects"] = defects
    return tables


def wave_membership(tables: Tables) -> pd.DataFrame:
    """(wave, decision) for every decision in every wave's scope by its organisation links."""
    linked = tables["decision_organizations"].merge(
        tables["wave_organizations"], on="organization"
    )[["wave", "decision"]]
    everywhere = tables["decisions"].loc[tables["decisions"]["all_organizations"] == 1, ["key"]]
    every_wave = everywhere.merge(tables["waves"][["code"]], how="cross").rename(
        columns={"code": "wave", "key": "decision"}
    )
    return pd.concat([linked, every_wave], ignore_index=True).drop_duplicates(ignore_index=True)


# One date -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The programme (or one wave of it) as it stood at the end of `as_of`."""

    as_of: dt.date
    decisions: pd.DataFrame  # those created by then, with `stage` as of then
    test_cases: pd.DataFrame  # those created by then, with the latest run: result, run_date
    coverage: pd.DataFrame  # test_case, decision
    defects: pd.DataFrame  # those open on that day, with `worst` severity
    demos: pd.DataFrame  # held demos dated by then
    approvals: pd.DataFrame  # verdicts dated by then
    measurements: pd.DataFrame  # reported values dated by then


def stages_as_of(events: pd.DataFrame, day: dt.date | str) -> pd.DataFrame:
    """key, stage, since: each decision's stage at the end of `day` (decisions not yet
    created are absent). `events` are in time order."""
    known = events[events["at"] <= cutoff(day)]
    last = known.drop_duplicates("key", keep="last")
    return pd.DataFrame(
        {"key": last["key"].to_numpy(), "stage": last["stage"].to_numpy(), "since": last["at"]}
    ).reset_index(drop=True)


def latest_runs(runs: pd.DataFrame, day: dt.date | str) -> pd.DataFrame:
    """test_case, result, run_date: each test case's latest run dated by `day`."""
    dated = runs[runs["date"] <= cutoff(day)]
    latest = dated.drop_duplicates("test_case", keep="last")
    return latest.rename(columns={"date": "run_date"})[["test_case", "result", "run_date"]]


def open_defects(defects: pd.DataFrame, day: dt.date | str) -> pd.DataFrame:
    """Defects open at the end of `day`: opened by then and not closed by then. A defect now
    fixed or closed counts as open on the days before its closing date; deferred ones do not."""
    end = cutoff(day)
    opened = defects["opened"].isna() | (defects["opened"] <= end)
    closed_later = defects["closed"].notna() & (defects["closed"] > end)
    still_open = (defects["status"] == "open") & (defects["closed"].isna() | closed_later)
    was_open = defects["status"].isin(["fixed", "closed"]) & closed_later
    return defects[opened & (still_open | was_open)]


def snapshot(tables: Tables, day: dt.date | str) -> Snapshot:
    """The whole programme as of `day` (tables from `prepare`)."""
    end = cutoff(day)
    stages = stages_as_of(tables["stage_events"], day)
    decisions = tables["decisions"].drop(columns=["stage"]).merge(stages, on="key")
    cases = tables["test_cases"]
    cases = cases[cases["created"].isna() | (cases["created"] <= end)]
    runs = latest_runs(tables["test_runs"], day).rename(columns={"test_case": "key"})
    cases = cases.merge(runs, on="key", how="left")
    demos = tables["demos"]
    return Snapshot(
        as_of=as_date(day),
        decisions=decisions,
        test_cases=cases,
        coverage=tables["coverage"][tables["coverage"]["test_case"].isin(cases["key"])],
        defects=open_defects(tables["defects"], day),
        demos=demos[(demos["held"] == 1) & (demos["date"] <= end)],
        approvals=tables["approvals"][tables["approvals"]["date"] <= end],
        measurements=tables["measurements"][tables["measurements"]["date"] <= end],
    )


def scoped(snap: Snapshot, keys: pd.Series | set[str], wave: str | None = None) -> Snapshot:
    """The part of a snapshot that counts for a wave: its decisions (not withdrawn), the test
    cases covering them, the defects linked to them directly or through such a test case,
    their verdicts, and the wave's measurements."""
    decisions = snap.decisions[
        snap.decisions["key"].isin(keys) & (snap.decisions["stage"] != WITHDRAWN)
    ]
    coverage = snap.coverage[snap.coverage["decision"].isin(decisions["key"])]
    cases = snap.test_cases[snap.test_cases["key"].isin(coverage["test_case"])]
    defects = snap.defects[
        snap.defects["decision"].isin(decisions["key"])
        | snap.defects["test_case"].isin(cases["key"])
    ]
    measurements = snap.measurements
    if wave is not None:
        measurements = measurements[measurements["wave"] == wave]
    return replace(
        snap,
        decisions=decisions,
        test_cases=cases,
        coverage=coverage,
        defects=defects,
        approvals=snap.approvals[snap.approvals["decision"].isin(decisions["key"])],
        measurements=measurements,
    )


# Many dates ---------------------------------------------------------------------------------


def weekly_dates(end: dt.date, weeks: int) -> list[dt.date]:
    """`weeks` + 1 dates a week apart, ending at `end`."""
    return [end - dt.timedelta(weeks=k) for k in range(weeks, -1, -1)]


def stage_counts_over(
    events: pd.DataFrame, dates: list[dt.date], keys: pd.Series | set[str] | None = None
) -> pd.DataFrame:
    """How many decisions stood at each stage at the end of each date: one row per date, one
    column per stage (withdrawn included). Computed from the stage changes alone (+1 on
    entering a stage, -1 on leaving it), so a long history costs one pass over the log."""
    ev = events if keys is None else events[events["key"].isin(keys)]
    previous = ev.groupby("key", sort=False)["stage"].shift()
    entered = pd.DataFrame({"at": ev["at"], "stage": ev["stage"], "delta": 1})
    left = pd.DataFrame({"at": ev["at"], "stage": previous, "delta": -1}).dropna()
    changes = pd.concat([entered, left], ignore_index=True)
    changes = changes.sort_values("at", kind="stable")
    ends = np.array([cutoff(d) for d in dates], dtype=object)
    counts = {}
    for stage in ALL_STAGES:
        of_stage = changes[changes["stage"] == stage]
        running = np.concatenate([[0], of_stage["delta"].cumsum().to_numpy()])
        position = np.searchsorted(of_stage["at"].to_numpy(dtype=object), ends, side="right")
        counts[stage] = running[position]
    return pd.DataFrame(counts, index=pd.Index(dates, name="date"))
