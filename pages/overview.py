"""Overview: the next go-lives, each wave's decisions at a glance, the pipeline by stage, and
what needs attention now."""

import streamlit as st

import ui
from decisions import services
from decisions.charts.overview import pipeline_chart, wave_stage_chart
from decisions.store import queues, views
from decisions.views import days_left

conn = ui.conn()
today = services.today(conn)

st.title("Overview")
st.caption(f"The programme as of {today:%A %d %B %Y}.")

st.subheader("Next go-lives")
waves = views.next_go_lives(conn, today.isoformat())
if waves.empty:
    st.write("No wave is planned after today.")
for column, wave in zip(st.columns(max(len(waves), 1)), waves.itertuples(), strict=False):
    with column, st.container(border=True):
        left = days_left(wave.go_live, today)
        st.metric(ui.md(wave.name), f"{left} days", help=f"Go-live {wave.go_live}")
        st.caption(f"{wave.go_live} · {ui.md(wave.organizations or 'no organisations')}")
        if wave.replans:
            st.caption(f"Re-planned {wave.replans} time{'s' if wave.replans > 1 else ''}")

left, right = st.columns(2)
with left:
    st.subheader("Decisions per wave")
    per_wave = views.wave_stage_counts(conn)
    if per_wave.empty:
        st.write("No decisions in any wave's scope yet.")
    else:
        st.altair_chart(wave_stage_chart(per_wave))
        st.page_link(
            "pages/readiness.py", label="Go-live criteria per wave", icon=":material/flag:"
        )
with right:
    st.subheader("Pipeline")
    st.altair_chart(pipeline_chart(views.stage_counts(conn)))

st.subheader("Needs attention")
overdue = views.overdue_proposals(conn, today.isoformat())
stuck = views.stuck_longest(conn, today.isoformat())
escalated = views.escalated_open(conn)
suspect = queues.suspect_evidence(conn)[
    ["key", "title", "stage", "version", "suspect_demos", "suspect_verdicts", "suspect_runs"]
]
overdue_total = views.count_overdue_proposals(conn, today.isoformat())
tabs = st.tabs(
    [
        f"Overdue ({overdue_total:,})",
        "Stuck longest",
        f"Escalated ({len(escalated):,})",
        f"Suspect evidence ({len(suspect):,})",
    ]
)
with tabs[0]:
    st.caption("Still proposed after the date the decision was needed by.")
    ui.decision_table(overdue, "overview_overdue", total=overdue_total)
with tabs[1]:
    st.caption("Decisions still on their way that have sat longest in their current stage.")
    ui.decision_table(stuck, "overview_stuck")
with tabs[2]:
    st.caption("Proposals escalated to a higher forum that still wait for a decision.")
    ui.decision_table(escalated, "overview_escalated")
with tabs[3]:
    st.caption(
        "Revised decisions with demos, verdicts or test runs from before the current version; "
        "they count for nothing until renewed."
    )
    ui.decision_table(suspect, "overview_suspect")
