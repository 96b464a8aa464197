"""Backlog: how decisions flow and where they wait: cumulative flow, aging per stage, time per
stage and per escalation level, bottlenecks by domain and forum, decisions past their
needed-by date, and expert workload against allocation."""

import datetime as dt

import streamlit as st

import ui
from decisions import backlog, services
from decisions.charts import backlog as charts
from decisions.store import analytics


@st.cache_resource(max_entries=4, show_spinner="Reading the backlog…")
def load(_conn, marker: str, as_of: dt.date):
    """The decisions as of the date with their details, and those past their needed-by date;
    reloaded only when the programme changed."""
    base, decisions = backlog.load_current(_conn, as_of)
    return base, decisions, backlog.overdue(decisions, as_of)


@st.cache_resource(max_entries=8, show_spinner="Replaying the weeks…")
def cumulative_flow(_conn, marker: str, as_of: dt.date, weeks: int):
    return backlog.load_flow(_conn, as_of, weeks)


@st.cache_resource(max_entries=4, show_spinner="Timing the stages…")
def stage_times(_conn, marker: str, as_of: dt.date):
    return backlog.load_stage_times(_conn, load(_conn, marker, as_of)[0])


@st.cache_resource(max_entries=4, show_spinner="Counting open items…")
def workload(_conn, marker: str, as_of: dt.date):
    return backlog.load_workload(_conn, load(_conn, marker, as_of)[1], as_of)


conn = ui.conn()
today = services.today(conn)
marker = analytics.data_marker(conn)
st.title("Backlog")
st.caption(f"Where decisions wait, as of {today:%d %B %Y}.")
base, decisions, late = load(conn, marker, today)
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
        st.altair_chart(charts.cumulative_flow_chart(cumulative_flow(conn, marker, today, weeks)))
        st.caption("Decisions at each stage at the end of each week (withdrawn ones left out).")
if aging.open:
    with aging:
        per_stage = backlog.aging(decisions)
        st.caption("How long open decisions have waited in their current stage (days).")
        st.altair_chart(charts.duration_chart(per_stage, "stage", "Days in current stage (median)"))
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
        per_stage, per_level = stage_times(conn, marker, today)
        st.altair_chart(charts.duration_chart(per_stage, "stage", "Days in stage (median)"))
        st.dataframe(per_stage, hide_index=True)
        st.subheader("Per escalation level")
        st.caption(
            "Time a proposal spent at each forum level before it was escalated or decided; "
            "`still_there` counts those waiting now."
        )
        st.altair_chart(charts.duration_chart(per_level, "forum_level", "Days at level (median)"))
        st.dataframe(per_level, hide_index=True)
if bottlenecks.open:
    with bottlenecks:
        by = st.segmented_control("By", ["domain", "forum"], key="backlog_by")
        table = backlog.bottlenecks(decisions, today, by or "domain")
        st.altair_chart(charts.bottleneck_chart(table, by or "domain"))
        st.dataframe(table, hide_index=True)
if overdue_tab.open:
    with overdue_tab:
        st.caption(
            "Proposals still undecided after the date they were needed by, most overdue first."
        )
        ui.decision_table(late, "backlog_overdue", total=len(late))
if workload_tab.open:
    with workload_tab:
        people = workload(conn, marker, today)
        counts = people["flag"].value_counts()
        st.caption(
            f"Open items per expert against their allocation: {counts.get('overloaded', 0)} "
            f"overloaded (more than {backlog.OVERLOAD_FACTOR:g}× the median per full-time "
            f"equivalent), {counts.get('idle', 0)} idle (at most {backlog.IDLE_FACTOR:g}× the "
            f"median and no activity in {backlog.ACTIVITY_DAYS} days: capacity to spare)."
        )
        st.altair_chart(charts.workload_chart(people))
        flag = st.segmented_control("Show", ["overloaded", "idle"], key="backlog_flag")
        st.dataframe(people[people["flag"] == flag] if flag else people, hide_index=True)
