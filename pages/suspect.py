"""Suspect evidence: demos, approvals and test runs of decisions that were revised since, which
stay in the history but count for nothing; and what must be redone for each decision."""

import streamlit as st

import ui
from decisions import evidence
from decisions.store import analytics

SHOWN = 500

conn = ui.conn()


@st.cache_data(max_entries=4, show_spinner=False)
def suspect_evidence(_conn, marker: str):
    """Recomputed only when the programme changed."""
    return evidence.suspect_evidence(_conn, limit=SHOWN)


st.title("Suspect evidence")
st.caption(
    "Revising a decision's text starts a new version. Its earlier demos, approvals and test runs "
    "stay in its history but no longer count: they are suspect until new evidence exists. "
    "Select a row to open the decision."
)
suspect = suspect_evidence(conn, analytics.data_marker(conn))
if suspect.empty:
    st.success("No evidence is suspect: no revised decision has evidence of an earlier version.")
    st.stop()

a, b, c, d = st.columns(4)
a.metric("Revised, with suspect evidence", f"{len(suspect):,}")
b.metric("Need a new demo", int(suspect["must_redo"].str.contains("demo").sum()))
c.metric("Need approvals again", int(suspect["must_redo"].str.contains("approvals").sum()))
d.metric("Need test runs again", int(suspect["must_redo"].str.contains("test runs").sum()))

redo = st.segmented_control(
    "Show", ["all", "a new demo", "approvals", "test runs"], default="all", key="suspect_redo"
)
if redo and redo != "all":
    suspect = suspect[suspect["must_redo"].str.contains(redo)]
suspect = suspect.assign(version_started_at=suspect["version_started_at"].str[:10])
columns = ["key", "title", "domain", "stage", "version", "version_started_at", "must_redo",
           "suspect_demos", "suspect_verdicts", "suspect_runs", "new_demos", "new_verdicts",
           "new_runs"]  # fmt: skip
ui.decision_table(suspect[columns], "suspect_table")
if len(suspect) >= SHOWN:
    st.caption(f"Showing the {SHOWN} most recently revised.")
