"""Suspect evidence: demos, approvals and test runs of decisions that were revised since, which
stay in the history but count for nothing; and what must be redone for each decision."""

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, i18n, words
from decisions.i18n import _
from decisions.store import analytics, queues

SHOWN = 500


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.assign(
        version_started_at=frame["version_started_at"].map(words.date_text),
        must_redo=frame["must_redo"].map(words.redo_text),
    )
    shown = words.readable(shown, queues.code_names(conn))
    return shown.rename(
        columns={c: _(w) for c, w in words.SUSPECT_COLUMN_WORDS.items() if c in shown}
    )


conn = ui.conn()


@st.cache_data(max_entries=4, show_spinner=False)
def suspect_evidence(_conn, marker: str):
    """Recomputed only when the programme changed."""
    return evidence.suspect_evidence(_conn, limit=SHOWN)


st.title(_("Suspect evidence"))
st.caption(
    _(
        "Revising a decision's text starts a new version. Its earlier demos, approvals and test "
        "runs stay in its history but no longer count: they are suspect until new evidence "
        "exists. Select a row to open the decision."
    )
)
suspect = suspect_evidence(conn, analytics.data_marker(conn))
if suspect.empty:
    st.success(_("No evidence is suspect: no revised decision has evidence of an earlier version."))
    st.stop()

a, b, c, d = st.columns(4)


def needing(label: str) -> str:
    return i18n.format_number(int(suspect["must_redo"].str.contains(label).sum()))


a.metric(_("Revised, with suspect evidence"), i18n.format_number(len(suspect)))
b.metric(_("Need a new demo"), needing("a new demo"))
c.metric(_("Need approvals again"), needing("approvals"))
d.metric(_("Need test runs again"), needing("test runs"))

redo = st.segmented_control(
    _("Show"),
    list(words.SUSPECT_SHOW_WORDS),
    default="all",
    format_func=lambda choice: words.word(words.SUSPECT_SHOW_WORDS, choice),
    key="suspect_redo",
)
if redo and redo != "all":
    suspect = suspect[suspect["must_redo"].str.contains(redo)]
columns = ["key", "title", "domain", "stage", "version", "version_started_at", "must_redo",
           "suspect_demos", "suspect_verdicts", "suspect_runs", "new_demos", "new_verdicts",
           "new_runs"]  # fmt: skip
ui.decision_table(readable(suspect[columns]), "suspect_table")
if len(suspect) >= SHOWN:
    st.caption(_("Showing the {count} most recently revised.", count=i18n.format_number(SHOWN)))
