"""Overview: the next go-lives, each wave's decisions at a glance, the pipeline by stage, and
what needs attention now."""

import pandas as pd
import streamlit as st

import ui
from decisions import readiness, services
from decisions.charts.overview import pipeline_chart, wave_stage_chart
from decisions.store import queues, views
from decisions.views import approved_share, days_left

SUSPECT_SHOWN = 1000


def figures(conn, today: str) -> dict[str, pd.DataFrame | int]:
    """Everything the overview shows; computed once per change of the data, for every session
    (ui.shared: never modify the result)."""
    suspect = queues.suspect_evidence(conn, limit=SUSPECT_SHOWN)
    return {
        "waves": views.next_go_lives(conn, today),
        "stages": views.stage_counts(conn),
        "overdue": views.overdue_proposals(conn, today),
        "overdue_total": views.count_overdue_proposals(conn, today),
        "stuck": views.stuck_longest(conn, today),
        "escalated": views.escalated_open(conn),
        "suspect": suspect[
            [
                "key",
                "title",
                "stage",
                "version",
                "suspect_demos",
                "suspect_verdicts",
                "suspect_runs",
            ]
        ],
    }


def wave_readiness(waves) -> tuple[dict[str, tuple[int, int, bool]], pd.DataFrame]:
    """Per wave: criteria met or waived, criteria in all, and whether that is a go; and its
    decisions in scope per stage."""
    met = {
        w.wave: (sum(c.status in ("met", "waived") for c in w.criteria), len(w.criteria), w.go)
        for w in waves
    }
    return met, readiness.stages_per_wave(waves)


today = services.today(ui.conn())
counted = ui.shared(
    ("overview", today), lambda c: figures(c, today.isoformat()), spinner="Counting…"
)
assessed = ui.readiness_computed(today)
data = counted.value
criteria, per_wave = wave_readiness(assessed.value[1])

st.title("Overview")
st.caption(f"The programme as of {today:%A %d %B %Y}.")
ui.figures_as_of(counted, assessed)

st.subheader("Next go-lives")
waves = data["waves"]
shares = approved_share(per_wave)
if waves.empty:
    st.write("No wave is planned after today.")
for column, wave in zip(st.columns(max(len(waves), 1)), waves.itertuples(), strict=False):
    with column, st.container(border=True):
        st.metric(ui.md(wave.name), f"{days_left(wave.go_live, today)} days")
        st.caption(f"{wave.go_live} · {ui.md(wave.organizations or 'no organisations')}")
        met, total, go = criteria.get(wave.code, (0, 0, False))
        if total:
            st.markdown(
                f"{':green-badge[GO]' if go else ':red-badge[NO GO]'} "
                f"{met} of {total} go-live criteria met or waived"
            )
        approved, in_scope = shares.get(wave.code, (0, 0))
        if in_scope:
            st.progress(
                approved / in_scope,
                text=f"{approved:,} of {in_scope:,} decisions approved or further",
            )
        if wave.replans:
            st.caption(f"Re-planned {wave.replans} time{'s' if wave.replans > 1 else ''}")

left, right = st.columns(2)
with left:
    st.subheader("Decisions per wave")
    if per_wave.empty:
        st.write("No decisions in any wave's scope yet.")
    else:
        ui.chart(lambda: wave_stage_chart(per_wave), ("overview.waves", today, assessed.event_id))
        st.page_link(
            "pages/readiness.py", label="Go-live criteria per wave", icon=":material/flag:"
        )
with right:
    st.subheader("Pipeline")
    if data["stages"]["decisions"].sum():
        ui.chart(
            lambda: pipeline_chart(data["stages"]), ("overview.pipeline", today, counted.event_id)
        )
    else:
        st.write("No decisions yet: propose one under New decision, or import them under Data.")

st.subheader("Needs attention")
overdue_tab, stuck_tab, escalated_tab, suspect_tab = st.tabs(
    [
        f"Overdue ({data['overdue_total']:,})",
        "Stuck longest",
        f"Escalated ({len(data['escalated']):,})",
        f"Suspect evidence ({len(data['suspect']):,}"
        f"{'+' if len(data['suspect']) >= SUSPECT_SHOWN else ''})",
    ]
)
with overdue_tab:
    st.caption("Still proposed after the date the decision was needed by.")
    ui.decision_table(data["overdue"], "overview_overdue", total=data["overdue_total"])
with stuck_tab:
    st.caption("Decisions still on their way that have sat longest in their current stage.")
    ui.decision_table(data["stuck"], "overview_stuck")
with escalated_tab:
    st.caption("Proposals escalated to a higher forum that still wait for a decision.")
    ui.decision_table(data["escalated"], "overview_escalated")
with suspect_tab:
    st.caption(
        "Revised decisions with demos, verdicts or test runs from before the current version; "
        "they count for nothing until renewed."
    )
    ui.decision_table(data["suspect"], "overview_suspect")
