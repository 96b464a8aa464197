"""Backlog analytics as pure functions over the loaded tables: cumulative flow, aging per
stage, time per stage and per escalation level (median and 85th percentile, from the event
log), bottlenecks by domain and forum, decisions past their needed-by date, and each expert's
workload against their allocation."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pandas as pd

from decisions import history, permissions
from decisions.history import Programme
from decisions.model import ALL_STAGES, STAGES
from decisions.store import analytics
from decisions.workflow import NO_DATE, is_overdue

Tables = dict[str, pd.DataFrame]
CLOSED = ("ready", "withdrawn")
# Open items per full-time equivalent, against the programme's median: more than twice it is
# overloaded; a quarter of it or less, with nothing done lately, is idle (capacity to spare).
OVERLOAD_FACTOR = 2.0
IDLE_FACTOR = 0.25
ACTIVITY_DAYS = 28  # "lately", for the idle flag
# The tables each part reads: of the readiness tables only the decisions and their stage
# events (no evidence); of the backlog tables, the base ones and those of the workload.
PROGRAMME_TABLES = ("decisions", "waves", "stage_events")
BASE_TABLES = ("decisions", "escalations", "forums")
WORKLOAD_TABLES = ("experts", "expert_roles", "expert_domains", "forum_members",
                   "demo_invitees", "actor_events", "approvals")  # fmt: skip


def _seconds(stamps: pd.Series | str) -> np.ndarray:
    """Timestamps ('YYYY-MM-DDTHH:MM:SS', or a bare date) as seconds, for differences."""
    return np.asarray(np.asarray(stamps, dtype=object), dtype="datetime64[s]").astype(np.int64)


def _days_between(start: pd.Series, end: pd.Series | str) -> np.ndarray:
    return (_seconds(end) - _seconds(start)) / 86_400


def _summary(frame: pd.DataFrame, by: str, days: str = "days") -> pd.DataFrame:
    """count, median and 85th percentile of `days` per `by`."""
    grouped = frame.groupby(by, sort=False)[days]
    out = pd.DataFrame(
        {
            "count": grouped.size(),
            "median_days": grouped.median().round(1),
            "p85_days": grouped.quantile(0.85).round(1),
        }
    )
    return out.reset_index()


def _stage_order(frame: pd.DataFrame, column: str = "stage") -> pd.DataFrame:
    order = {s: i for i, s in enumerate((*STAGES, "withdrawn"))}
    return frame.sort_values(column, key=lambda s: s.map(order)).reset_index(drop=True)


def current(programme: Programme, backlog: Tables, as_of: dt.date) -> pd.DataFrame:
    """The decisions as of a date (created by then) with their details, stage, since when,
    and days in that stage. Needs the programme's stage events after `as_of` and the backlog
    decisions' `stage_since` read until the end of that day."""
    codes = history.stages_on(programme, as_of)
    details = programme.decisions[["key"]].merge(backlog["decisions"], on="key", how="left")
    since = details["stage_since"].fillna(details["created_at"].str.slice(0, 19))
    exists = codes != history.NOT_CREATED
    decisions = details[exists].assign(
        stage=np.asarray(ALL_STAGES, dtype=object)[codes[exists]], since=since[exists]
    )
    return decisions.assign(
        days_in_stage=_days_between(decisions["since"], history.end_of_day(as_of)).round(1)
    )


def cumulative_flow(programme: Programme, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """date, stage, count: decisions at each stage (withdrawn left out) week by week."""
    dates = history.weekly_dates(as_of, weeks)
    counts = history.stage_counts_over(programme, dates)[list(STAGES)]
    return counts.reset_index().melt("date", var_name="stage", value_name="count")


def aging(decisions: pd.DataFrame) -> pd.DataFrame:
    """stage, count, median_days, p85_days, max_days: how long open decisions have been
    waiting in their current stage."""
    open_ = decisions[~decisions["stage"].isin(CLOSED)].rename(columns={"days_in_stage": "days"})
    out = _summary(open_, "stage")
    out["max_days"] = out["stage"].map(open_.groupby("stage")["days"].max()).round(1)
    return _stage_order(out)


def time_per_stage(events: pd.DataFrame) -> pd.DataFrame:
    """stage, count, median_days, p85_days: how long decisions stayed in each open stage
    they have left (the time from entering a stage to the next stage event). `events`: the
    stage events in order of decision and time."""
    keys, stamps = events["key"].to_numpy(), events["at"].to_numpy()
    left = np.zeros(len(keys), dtype=bool)
    left[:-1] = ~history.first_in_group(keys)[1:]  # the decision's next event follows
    left &= ~events["stage"].isin(CLOSED).to_numpy()  # a revision reopening a ready one
    days = np.zeros(len(keys))
    days[:-1] = _days_between(stamps[:-1], stamps[1:])
    waits = pd.DataFrame({"stage": events["stage"].to_numpy()[left], "days": days[left]})
    return _stage_order(_summary(waits, "stage"))


def _series_by_key(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.Index(keys, dtype=object), dtype=object)


def time_per_level(events: pd.DataFrame, backlog: Tables) -> pd.DataFrame:
    """level, count, median_days, p85_days, still_there: time a proposal spent at
    each forum level before it was escalated further or decided (or withdrawn). `events`: the
    stage events in order of decision and time."""
    escalations = backlog["escalations"]
    keys, stamps = events["key"].to_numpy(), events["at"].to_numpy()
    first = history.first_in_group(keys)
    created = pd.DataFrame({"key": keys[first], "at": stamps[first]})
    first_forum = escalations.drop_duplicates("key", keep="first")
    first_forum = _series_by_key(
        first_forum["key"].to_numpy(), first_forum["from_forum"].to_numpy()
    )
    decisions = backlog["decisions"]
    forum_now = _series_by_key(decisions["key"].to_numpy(), decisions["forum"].to_numpy())
    escalated_from = created["key"].map(first_forum)
    created["forum"] = escalated_from.where(escalated_from.notna(), created["key"].map(forum_now))
    moves = escalations.rename(columns={"to_forum": "forum"})[["key", "at", "forum"]]
    segments = pd.concat([created, moves], ignore_index=True).sort_values(["key", "at"])
    beyond = np.flatnonzero(events["stage"].to_numpy() != "proposed")
    decided = beyond[history.first_in_group(keys[beyond])]
    segments["end"] = segments.groupby("key")["at"].shift(-1)
    segments["end"] = segments["end"].fillna(
        segments["key"].map(_series_by_key(keys[decided], stamps[decided]))
    )
    segments["level"] = segments["forum"].map(backlog["forums"].set_index("code")["level"])
    done = segments.dropna(subset=["end"]).assign(days=lambda s: _days_between(s["at"], s["end"]))
    waiting = segments[segments["end"].isna()].groupby("level").size()
    levels = sorted(set(done["level"].dropna()) | set(waiting.index))
    out = pd.DataFrame({"level": levels}).merge(_summary(done, "level"), on="level", how="left")
    out["count"] = out["count"].fillna(0).astype(int)
    out["still_there"] = out["level"].map(waiting).fillna(0).astype(int)
    return out


def overdue(decisions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Proposals still undecided after their needed-by date, most overdue first."""
    needed = decisions["needed_by"].fillna("").str.slice(0, 10).replace("", NO_DATE)
    late = decisions[is_overdue(decisions["stage"], needed, str(as_of))]
    late = late.assign(
        days_overdue=(as_of - pd.to_datetime(late["needed_by"]).dt.date).map(lambda d: d.days)
    )
    columns = [
        "key",
        "title",
        "domain",
        "forum",
        "criticality",
        "needed_by",
        "days_overdue",
        "owner",
    ]
    return late.sort_values("days_overdue", ascending=False)[columns].reset_index(drop=True)


def bottlenecks(decisions: pd.DataFrame, as_of: dt.date, by: str) -> pd.DataFrame:
    """Per domain or forum (`by`): open decisions, how many wait at proposed, for approval
    (demonstrated) and in test, how many are overdue, and how long they have waited in their
    stage (median, 85th percentile). Worst first: most overdue, then longest waits."""
    open_ = decisions[~decisions["stage"].isin(CLOSED)]
    late = set(overdue(decisions, as_of)["key"])
    grouped = open_.assign(
        proposed=open_["stage"] == "proposed",
        awaiting_approval=open_["stage"] == "demonstrated",
        in_test=open_["stage"] == "in_test",
        is_overdue=open_["key"].isin(late),
    ).groupby(by)
    out = pd.DataFrame(
        {
            "open": grouped.size(),
            "proposed": grouped["proposed"].sum(),
            "awaiting_approval": grouped["awaiting_approval"].sum(),
            "in_test": grouped["in_test"].sum(),
            "overdue": grouped["is_overdue"].sum(),
            "median_days_in_stage": grouped["days_in_stage"].median().round(1),
            "p85_days_in_stage": grouped["days_in_stage"].quantile(0.85).round(1),
        }
    ).reset_index()
    return out.sort_values(["overdue", "p85_days_in_stage"], ascending=False, ignore_index=True)


def _verdicts_due(shown: pd.DataFrame, backlog: Tables) -> pd.Series:
    """Per expert: the demonstrated decisions of their domains, less those they have given a
    verdict on (counted per domain, not per pair: the pairs run to hundreds of thousands)."""
    domains = backlog["expert_domains"]
    owed = domains["domain"].map(shown.groupby("domain").size()).fillna(0)
    owed = owed.groupby(domains["expert"]).sum()
    given = backlog["approvals"].rename(columns={"decision": "key"})
    given = given[given["key"].isin(shown["key"])].merge(shown[["key", "domain"]], on="key")
    given = given.merge(domains, on=["expert", "domain"]).groupby("expert").size()
    return owed.sub(given, fill_value=0)


def _verdict_roles() -> tuple[str, ...]:
    """The roles whose holders give verdicts in their domains: the experts a workload counts."""
    return permissions.roles_where("approve", permissions.DOMAIN)


def workload(backlog: Tables, decisions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each active expert's open items against their allocation: decisions they own that are
    not done, proposals in their forums, demonstrated decisions of their domains still
    without their verdict, and demos they are invited to. `per_fte` is open items per
    full-time equivalent; overloaded is more than OVERLOAD_FACTOR times the median of that,
    idle is at most IDLE_FACTOR times it and no recorded activity in the last ACTIVITY_DAYS
    days."""
    roles = backlog["expert_roles"]
    people = backlog["experts"]
    people = people[
        (people["active"] == 1)
        & people["email"].isin(roles.loc[roles["role"].isin(_verdict_roles()), "expert"])
    ].copy()
    open_ = decisions[~decisions["stage"].isin(CLOSED)]
    owned = open_.groupby("owner").size()
    proposals = open_[open_["stage"] == "proposed"].groupby("forum").size()
    in_forums = (
        backlog["forum_members"]
        .assign(n=lambda m: m["forum"].map(proposals).fillna(0))
        .groupby("expert")["n"]
        .sum()
    )
    due = _verdicts_due(open_.loc[open_["stage"] == "demonstrated"], backlog)
    invited = backlog["demo_invitees"].groupby("expert").size()
    since = (as_of - dt.timedelta(days=ACTIVITY_DAYS)).isoformat()
    recent = backlog["actor_events"]
    active = recent[(recent["at"] >= since) & (recent["at"] <= history.end_of_day(as_of))]
    email = people["email"]
    people["owned_open"] = email.map(owned).fillna(0).astype(int)
    people["proposals_in_forums"] = email.map(in_forums).fillna(0).astype(int)
    people["verdicts_due"] = email.map(due).fillna(0).astype(int)
    people["demo_invitations"] = email.map(invited).fillna(0).astype(int)
    people["open_items"] = people[
        ["owned_open", "proposals_in_forums", "verdicts_due", "demo_invitations"]
    ].sum(axis=1)
    people["recent_activity"] = email.map(active.groupby("actor").size()).fillna(0).astype(int)
    people["per_fte"] = (people["open_items"] / (people["allocation_pct"] / 100)).round(1)
    typical = float(np.median(people["per_fte"])) if len(people) else 0.0
    people["flag"] = np.select(
        [
            (people["per_fte"] > OVERLOAD_FACTOR * typical) & (people["open_items"] > 0),
            (people["per_fte"] <= IDLE_FACTOR * typical) & (people["recent_activity"] == 0),
        ],
        ["overloaded", "idle"],
        default="",
    )
    columns = [
        "email",
        "name",
        "organization",
        "allocation_pct",
        "owned_open",
        "proposals_in_forums",
        "verdicts_due",
        "demo_invitations",
        "open_items",
        "per_fte",
        "recent_activity",
        "flag",
    ]
    return people.sort_values("per_fte", ascending=False)[columns].reset_index(drop=True)


# Loading: each part reads only what it needs ----------------------------------------------------


def load_current(conn: sqlite3.Connection, as_of: dt.date) -> tuple[Tables, pd.DataFrame]:
    """The base backlog tables and the decisions as of a date (`current`): no stage history
    before the date, no evidence."""
    tables = analytics.load_readiness_tables(conn, as_of, only=PROGRAMME_TABLES)
    base = analytics.load_backlog_tables(conn, BASE_TABLES, until=history.end_of_day(as_of))
    return base, current(history.prepare(tables, as_of), base, as_of)


def load_flow(conn: sqlite3.Connection, as_of: dt.date, weeks: int) -> pd.DataFrame:
    """The cumulative flow of the `weeks` weeks up to a date, from their stage events only."""
    start = as_of - dt.timedelta(weeks=weeks)
    tables = analytics.load_readiness_tables(conn, start, only=PROGRAMME_TABLES)
    return cumulative_flow(history.prepare(tables, start), as_of, weeks)


def load_stage_times(conn: sqlite3.Connection, base: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time per stage and per escalation level, from the whole stage history."""
    events = analytics.load_backlog_tables(conn, ["stage_history"])["stage_history"]
    return time_per_stage(events), time_per_level(events, base)


def load_workload(
    conn: sqlite3.Connection, decisions: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """Each expert's open items against their allocation (`workload`)."""
    since = (as_of - dt.timedelta(days=ACTIVITY_DAYS)).isoformat()
    people = analytics.load_backlog_tables(conn, WORKLOAD_TABLES, since=since)
    return workload(people, decisions, as_of)
