"""Overview: the next go-lives, each wave's decisions at a glance, the pipeline by stage, and
what needs attention now."""

import pandas as pd
import streamlit as st

import ui
from decisions import aggregates, i18n, readiness, services, words
from decisions.charts.overview import pipeline_chart, wave_stage_chart
from decisions.i18n import _, n_
from decisions.standing import approved_share, days_left
from decisions.store import queues


def readable(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """A decision table as a person reads it: words for stages, codes, dates and headers."""
    shown = frame.copy()
    if "since" in shown:
        shown["since"] = shown["since"].map(words.date_text)
    shown = words.readable(shown, names)
    return shown.rename(
        columns={c: _(w) for c, w in words.OVERVIEW_COLUMN_WORDS.items() if c in shown}
    )


def wave_readiness(waves) -> tuple[dict, pd.DataFrame, dict]:
    """Per wave: criteria met or waived, criteria in all, and whether that is a go; its
    decisions in scope per stage; and how many of them are approved or further."""
    met = {w.wave: (sum(c.cleared for c in w.criteria), len(w.criteria), w.go) for w in waves}
    per_wave = readiness.stages_per_wave(waves)
    return met, per_wave, approved_share(per_wave)


TABLES = ("overdue", "stuck", "escalated", "suspect")


today = services.today(ui.conn())
counted = ui.shared(aggregates.Job("overview", (today.isoformat(),)), spinner=_("Counting…"))
assessed = ui.readiness_computed(today)
data = counted.value
criteria, per_wave, shares = ui.worded(
    ("overview.waves", today, assessed.event_id), lambda: wave_readiness(assessed.value[1])
)
tables = ui.worded(
    ("overview.tables", today, counted.event_id),
    lambda: {part: readable(data[part], queues.code_names(ui.conn())) for part in TABLES},
)

st.title(_("Overview"))
st.caption(_("The programme as of {date}.", date=i18n.format_date(today, "medium")))
ui.figures_as_of(counted, assessed)

st.subheader(_("Next go-lives"))
waves = data["waves"]
if waves.empty:
    st.write(_("No wave is planned after today."))
for column, wave in zip(st.columns(max(len(waves), 1)), waves.itertuples(), strict=False):
    with column, st.container(border=True):
        left_days = days_left(wave.go_live, today)
        st.metric(ui.md(wave.name), n_("{count} day", "{count} days", left_days))
        st.caption(
            f"{words.date_text(wave.go_live)} · "
            f"{ui.md(wave.organizations) if wave.organizations else _('no organisations')}"
        )
        met, total, go = criteria.get(wave.code, (0, 0, False))
        if total:
            badge = f":green-badge[{_('GO')}]" if go else f":red-badge[{_('NO GO')}]"
            st.markdown(
                badge
                + " "
                + _(
                    "{met} of {total} go-live criteria met or waived",
                    met=i18n.format_number(met),
                    total=i18n.format_number(total),
                )
            )
        approved, in_scope = shares.get(wave.code, (0, 0))
        if in_scope:
            st.progress(
                approved / in_scope,
                text=_(
                    "{approved} of {in_scope} decisions approved or further",
                    approved=i18n.format_number(approved),
                    in_scope=i18n.format_number(in_scope),
                ),
            )
        if wave.replans:
            st.caption(n_("Re-planned {count} time", "Re-planned {count} times", wave.replans))

left, right = st.columns(2)
with left:
    st.subheader(_("Decisions per wave"))
    if per_wave.empty:
        st.write(_("No decisions in any wave's scope yet."))
    else:
        ui.chart(
            lambda: wave_stage_chart(per_wave),
            ("overview.waves", today, assessed.event_id),
            about=_("The decisions in each wave's scope, by stage."),
        )
        st.page_link(
            "pages/readiness.py", label=_("Go-live criteria per wave"), icon=":material/flag:"
        )
with right:
    st.subheader(_("Pipeline"))
    if data["stages"]["decisions"].sum():
        ui.chart(
            lambda: pipeline_chart(data["stages"]),
            ("overview.pipeline", today, counted.event_id),
            about=_("How many decisions are at each stage of the workflow now."),
        )
    else:
        st.write(_("No decisions yet: propose one under New decision, or import them under Data."))

st.subheader(_("Needs attention"))
suspect_count = i18n.format_number(len(data["suspect"]))
if len(data["suspect"]) >= aggregates.SUSPECT_SHOWN:
    suspect_count += "+"
overdue_tab, stuck_tab, escalated_tab, suspect_tab = st.tabs(
    [
        _("Overdue ({count})", count=i18n.format_number(data["overdue_total"])),
        _("Stuck longest"),
        _("Escalated ({count})", count=i18n.format_number(len(data["escalated"]))),
        _("Suspect evidence ({count})", count=suspect_count),
    ]
)
with overdue_tab:
    st.caption(_("Still proposed after the date the decision was needed by."))
    ui.decision_table(tables["overdue"], "overview_overdue", total=data["overdue_total"])
with stuck_tab:
    st.caption(_("Decisions still on their way that have sat longest in their current stage."))
    ui.decision_table(tables["stuck"], "overview_stuck")
with escalated_tab:
    st.caption(_("Proposals escalated to a higher forum that still wait for a decision."))
    ui.decision_table(tables["escalated"], "overview_escalated")
with suspect_tab:
    st.caption(
        _(
            "Revised decisions with demos, verdicts or test runs from before the current version; "
            "they count for nothing until renewed."
        )
    )
    ui.decision_table(tables["suspect"], "overview_suspect")
