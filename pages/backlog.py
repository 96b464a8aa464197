"""Backlog: how decisions flow and where they wait: cumulative flow, aging per stage, time per
stage and per escalation level, bottlenecks by domain and forum, decisions past their
needed-by date, and expert workload against allocation."""

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from decisions import aggregates, backlog, i18n, services, words
from decisions.charts import backlog as charts
from decisions.i18n import _
from decisions.store import queues

# Each part is computed once per change of the data for every session (ui.shared; shared
# objects: never modify them).


def load(as_of: dt.date) -> ui.Computed:
    """The decisions as of the date with their details, and those past their needed-by date."""
    return ui.shared(aggregates.Job("backlog", (as_of,)), spinner=_("Reading the backlog…"))


def cumulative_flow(as_of: dt.date, weeks: int) -> ui.Computed:
    job = aggregates.Job("backlog.flow", (as_of, weeks))
    return ui.shared(job, spinner=_("Replaying the weeks…"))


def stage_times(as_of: dt.date) -> ui.Computed:
    return ui.shared(aggregates.Job("backlog.times", (as_of,)), spinner=_("Timing the stages…"))


def workload(as_of: dt.date) -> ui.Computed:
    job = aggregates.Job("backlog.workload", (as_of,))
    return ui.shared(job, spinner=_("Counting open items…"))


def table(frame: pd.DataFrame, **options) -> None:
    """A backlog table in words: stages, forum levels, flags and names for codes, headers."""
    shown = frame.copy()
    for column, word in (("stage", words.stage_word), ("level", words.level_word),
                         ("flag", words.flag_word)):  # fmt: skip
        if column in shown:
            shown[column] = shown[column].map(word)
    for column, kind in (("domain", "domains"), ("forum", "forums"), ("organization",
                                                                      "organizations")):  # fmt: skip
        if column in shown:
            shown[column] = shown[column].map(lambda c, t=names[kind]: t.get(c, c))
    st.dataframe(
        shown,
        hide_index=True,
        column_config=words.headers(words.BACKLOG_COLUMN_WORDS, shown.columns),
        **options,
    )


def in_words(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """A summary per stage or forum level with its `by` in words (what a chart shows)."""
    word = words.stage_word if by == "stage" else words.level_word
    return frame.assign(**{by: frame[by].map(word)})


conn = ui.conn()
today = services.today(conn)
names = queues.code_names(conn)
st.title(_("Backlog"))
st.caption(_("Where decisions wait, as of {date}.", date=i18n.format_date(today, "medium")))
loaded = load(today)
ui.figures_as_of(loaded)
base, decisions, late = loaded.value
open_count = int((~decisions["stage"].isin(backlog.CLOSED)).sum())
columns = st.columns(3)
columns[0].metric(_("Open decisions"), i18n.format_number(open_count))
columns[1].metric(_("Proposals past needed-by"), i18n.format_number(len(late)))
columns[2].metric(_("Escalations on record"), i18n.format_number(len(base["escalations"])))

# Only the chosen tab runs (a tab switch reruns the page). Streamlit forgets the state of
# widgets not drawn, so the hidden tabs' choices are kept here (their widgets take no default).
for key, default in {"backlog_weeks": 26, "backlog_by": "domain", "backlog_flag": None}.items():
    st.session_state[key] = st.session_state.get(key, default)
flow, aging, durations, bottlenecks, overdue_tab, workload_tab = st.tabs(
    [
        _("Cumulative flow"),
        _("Aging"),
        _("Time per stage"),
        _("Bottlenecks"),
        _("Past needed-by"),
        _("Workload"),
    ],  # fmt: skip
    key="backlog_tab",
    on_change="rerun",
)
if flow.open:
    with flow:
        weeks = st.slider(_("Weeks shown"), 4, 104, step=2, key="backlog_weeks")
        flow_computed = cumulative_flow(today, weeks)
        ui.chart(
            lambda: charts.cumulative_flow_chart(flow_computed.value),
            ("backlog.flow", today, weeks, flow_computed.event_id),
            about=_("How many decisions stood at each stage at the end of each week."),
        )
        st.caption(_("Decisions at each stage at the end of each week (withdrawn ones left out)."))
if aging.open:
    with aging:
        per_stage = backlog.aging(decisions)
        st.caption(_("How long open decisions have waited in their current stage (days)."))
        ui.chart(
            lambda: charts.duration_chart(
                in_words(per_stage, "stage"), "stage", _("Days in current stage (median)")
            ),
            ("backlog.aging", today, loaded.event_id),
            about=_(
                "The median days open decisions have waited in their current stage, per stage."
            ),
        )
        table(per_stage)
        stage = st.selectbox(
            _("Oldest in stage"),
            list(per_stage["stage"]),
            index=None,
            format_func=words.stage_word,
            key="backlog_aging_stage",
            placeholder=_("Choose a stage"),
        )
        if stage:
            oldest = decisions[decisions["stage"] == stage].nlargest(100, "days_in_stage")
            shown = words.readable(
                oldest[["key", "title", "domain", "forum", "days_in_stage", "owner"]], names
            ).rename(columns={"days_in_stage": _("Days in stage"), "owner": _("Owner")})
            ui.decision_table(shown, "backlog_oldest")
if durations.open:
    with durations:
        st.caption(
            _("Time spent in each stage before moving on, from the event log (bar: median; red "
              "tick: 85th percentile).")
        )  # fmt: skip
        times = stage_times(today)
        per_stage, per_level = times.value
        ui.chart(
            lambda: charts.duration_chart(
                in_words(per_stage, "stage"), "stage", _("Days in stage (median)")
            ),
            ("backlog.stages", today, times.event_id),
            about=_(
                "The median days decisions spent in each stage before moving on, and the 85th percentile."
            ),
        )
        table(per_stage)
        st.subheader(_("Per escalation level"))
        st.caption(
            _("Time a proposal spent at each forum level before it was escalated or decided; "
              "“Waiting there now” counts those waiting now.")
        )  # fmt: skip
        ui.chart(
            lambda: charts.duration_chart(
                in_words(per_level, "level"), "level", _("Days at level (median)")
            ),
            ("backlog.levels", today, times.event_id),
            about=_(
                "The median days proposals spent at each forum level before they were escalated or decided."
            ),
        )
        table(per_level)
if bottlenecks.open:
    with bottlenecks:
        by = st.segmented_control(
            _("By"),
            ["domain", "forum"],
            format_func=lambda b: _("Domain") if b == "domain" else _("Forum"),
            key="backlog_by",
        )
        worst = backlog.bottlenecks(decisions, today, by or "domain")
        named = worst.assign(**{by or "domain": worst[by or "domain"].map(
            lambda c, t=names[f"{by or 'domain'}s"]: t.get(c, c))})  # fmt: skip
        ui.chart(
            lambda: charts.bottleneck_chart(named, by or "domain"),
            ("backlog.bottlenecks", today, by, loaded.event_id),
            about=_(
                "Where decisions wait longest: open decisions and their waiting time per domain or forum."
            ),
        )
        table(worst)
if overdue_tab.open:
    with overdue_tab:
        st.caption(
            _("Proposals still undecided after the date they were needed by, most overdue first.")
        )
        shown = words.readable(late, names).rename(
            columns={"days_overdue": _("Days overdue"), "owner": _("Owner")}
        )
        ui.decision_table(shown, "backlog_overdue", total=len(late))
if workload_tab.open:
    with workload_tab:
        load_computed = workload(today)
        people = load_computed.value
        counts = people["flag"].value_counts()
        st.caption(
            _(
                "Open items per expert against their allocation: {overloaded} overloaded (more "
                "than {over}× the median per full-time equivalent), {idle} idle (at most "
                "{under}× the median and no activity in {days} days: capacity to spare).",
                overloaded=i18n.format_number(int(counts.get("overloaded", 0))),
                over=i18n.format_number(backlog.OVERLOAD_FACTOR),
                idle=i18n.format_number(int(counts.get("idle", 0))),
                under=i18n.format_number(backlog.IDLE_FACTOR),
                days=backlog.ACTIVITY_DAYS,
            )
        )
        ui.chart(
            lambda: charts.workload_chart(people),
            ("backlog.workload", today, load_computed.event_id),
            about=_(
                "Open items per expert against their allocation, with overloaded and idle experts marked."
            ),
        )
        flag = st.segmented_control(
            _("Show"), ["overloaded", "idle"], format_func=words.flag_word, key="backlog_flag"
        )
        table(people[people["flag"] == flag] if flag else people)
