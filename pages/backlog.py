"""Backlog: how decisions flow and where they wait: cumulative flow, aging per stage, time per
stage and per escalation level, bottlenecks by domain and forum, decisions past their
needed-by date, and expert workload against allocation."""

import datetime as dt

import streamlit as st

import ui
from decisions import backlog, services
from decisions.charts import backlog as charts

# Each part is computed once per change of the data for every session (ui.shared; shared
# objects: never modify them); the parts that need the decisions read them from the same store.


def _read(connection, as_of: dt.date):
    base, decisions = backlog.load_current(connection, as_of)
    return base, decisions, backlog.overdue(decisions, as_of)


def _current(connection, as_of: dt.date):
    return ui.AGGREGATES.get(connection, ("backlog", as_of), lambda c: _read(c, as_of)).value


def load(as_of: dt.date) -> ui.Computed:
    """The decisions as of the date with their details, and those past their needed-by date."""
    return ui.shared(("backlog", as_of), lambda c: _read(c, as_of), spinner="Reading the backlog…")


def cumulative_flow(as_of: dt.date, weeks: int) -> ui.Computed:
    compute = lambda c: backlog.load_flow(c, as_of, weeks)  # noqa: E731
    return ui.shared(("backlog.flow", as_of, weeks), compute, spinner="Replaying the weeks…")


def stage_times(as_of: dt.date) -> ui.Computed:
    compute = lambda c: backlog.load_stage_times(c, _current(c, as_of)[0])  # noqa: E731
    return ui.shared(("backlog.times", as_of), compute, spinner="Timing the stages…")


def workload(as_of: dt.date) -> ui.Computed:
    compute = lambda c: backlog.load_workload(c, _current(c, as_of)[1], as_of)  # noqa: E731
    return ui.shared(("backlog.workload", as_of), compute, spinner="Counting open items…")


conn = ui.conn()
today = services.today(conn)
st.title("Backlog")
st.caption(f"Where decisions wait, as of {today:%d %B %Y}.")
loaded = load(today)
ui.figures_as_of(loaded)
base, decisions, late = loaded.value
open_count = int((~decisions["stage"].isin(backlog.CLOSED)).sum())
columns = st.columns(3)
columns[0].metric("Open decisions", f"{open_count:,}")
columns[1].metric("Proposals past needed-by", f"{len(late):,}")
columns[2].metric("Escalations on record", f"{len(base['escalations']):,}")

# Only the chosen tab runs (a tab switch reruns the page). Streamlit forgets the state of
# widgets not drawn, so the hidden tabs' choices are kept here (their widgets take no default).
for key, default in {"backlog_weeks": 26, "backlog_by": "domain", "backlog_flag": None}.items():
    st.session_state[key] = st.session_state.get(key, default)
flow, aging, durations, bottlenecks, overdue_tab, workload_tab = st.tabs(
    ["Cumulative flow", "Aging", "Time per stage", "Bottlenecks", "Past needed-by", "Workload"],
    key="backlog_tab",
    on_change="rerun",
)
if flow.open:
    with flow:
        weeks = st.slider("Weeks shown", 4, 104, step=2, key="backlog_weeks")
        flow_computed = cumulative_flow(today, weeks)
        ui.chart(
            lambda: charts.cumulative_flow_chart(flow_computed.value),
            ("backlog.flow", today, weeks, flow_computed.event_id),
        )
        st.caption("Decisions at each stage at the end of each week (withdrawn ones left out).")
if aging.open:
    with aging:
        per_stage = backlog.aging(decisions)
        st.caption("How long open decisions have waited in their current stage (days).")
        ui.chart(
            lambda: charts.duration_chart(per_stage, "stage", "Days in current stage (median)"),
            ("backlog.aging", today, loaded.event_id),
        )
        st.dataframe(per_stage, hide_index=True)
        stage = st.selectbox(
            "Oldest in stage",
            list(per_stage["stage"]),
            index=None,
            key="backlog_aging_stage",
            placeholder="Choose a stage",
        )
        if stage:
            oldest = decisions[decisions["stage"] == stage].nlargest(100, "days_in_stage")
            ui.decision_table(
                oldest[["key", "title", "domain", "forum", "days_in_stage", "owner"]],
                "backlog_oldest",
            )
if durations.open:
    with durations:
        st.caption(
            "Time spent in each stage before moving on, from the event log "
            "(bar: median; red tick: 85th percentile)."
        )
        times = stage_times(today)
        per_stage, per_level = times.value
        ui.chart(
            lambda: charts.duration_chart(per_stage, "stage", "Days in stage (median)"),
            ("backlog.stages", today, times.event_id),
        )
        st.dataframe(per_stage, hide_index=True)
        st.subheader("Per escalation level")
        st.caption(
            "Time a proposal spent at each forum level before it was escalated or decided; "
            "`still_there` counts those waiting now."
        )
        ui.chart(
            lambda: charts.duration_chart(per_level, "forum_level", "Days at level (median)"),
            ("backlog.levels", today, times.event_id),
        )
        st.dataframe(per_level, hide_index=True)
if bottlenecks.open:
    with bottlenecks:
        by = st.segmented_control("By", ["domain", "forum"], key="backlog_by")
        table = backlog.bottlenecks(decisions, today, by or "domain")
        ui.chart(
            lambda: charts.bottleneck_chart(table, by or "domain"),
            ("backlog.bottlenecks", today, by, loaded.event_id),
        )
        st.dataframe(table, hide_index=True)
if overdue_tab.open:
    with overdue_tab:
        st.caption(
            "Proposals still undecided after the date they were needed by, most overdue first."
        )
        ui.decision_table(late, "backlog_overdue", total=len(late))
if workload_tab.open:
    with workload_tab:
        load_computed = workload(today)
        people = load_computed.value
        counts = people["flag"].value_counts()
        st.caption(
            f"Open items per expert against their allocation: {counts.get('overloaded', 0)} "
            f"overloaded (more than {backlog.OVERLOAD_FACTOR:g}× the median per full-time "
            f"equivalent), {counts.get('idle', 0)} idle (at most {backlog.IDLE_FACTOR:g}× the "
            f"median and no activity in {backlog.ACTIVITY_DAYS} days: capacity to spare)."
        )
        ui.chart(
            lambda: charts.workload_chart(people),
            ("backlog.workload", today, load_computed.event_id),
        )
        flag = st.segmented_control("Show", ["overloaded", "idle"], key="backlog_flag")
        st.dataframe(people[people["flag"] == flag] if flag else people, hide_index=True)
