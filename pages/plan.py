"""Plan: the organisations and go-live waves, each wave's re-plan history as a timeline, and
re-planning a wave (managers), with a preview of what the chosen date does to the readiness
outlook before it is saved."""

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from decisions import history, i18n, permissions, planning, readiness, services, standing, words
from decisions.charts import readiness as charts
from decisions.i18n import _
from decisions.model import WorkflowError
from decisions.store import analytics

DATE_INPUT = "DD.MM.YYYY" if i18n.language() == "nb" else "YYYY-MM-DD"


def meeting_word(meeting: dict | None) -> str:
    """The wave's latest go/no-go decision and its date, or nothing."""
    if meeting is None:
        return ""
    return _("{outcome} ({date})", outcome=words.outcome_word(meeting["outcome"]),
             date=words.date_text(meeting["meeting_date"]))  # fmt: skip


def preview(wave: readiness.WaveReadiness, day: dt.date) -> None:
    """What go-live on `day` does to the wave's outlook, at the recent rate of each criterion
    (readiness.outlook_on and met_by: the rules of the Readiness page)."""
    rows = []
    for c in wave.criteria:
        reach = readiness.forecast_for(c, day)
        rows.append(
            {
                "criterion": words.criterion_name(c.code, c.criterion.name),
                "status": [c.status],
                "forecast": words.forecast_text(reach.code, reach.date, day),
                "now": [charts.outlook_key(c)],
                "then": [charts.outlook_key(c, day)],
                "met_by": readiness.met_by(c, day),
            }
        )
    table = pd.DataFrame(rows)
    met = int(table["met_by"].sum())
    waived = sum(c.waived and not readiness.met_by(c, day) for c in wave.criteria)
    st.markdown(
        _(
            "**Go-live on {date}:** {met} of {total} criteria met or forecast to be met by "
            "then at the recent rate; {waived} waived.",
            date=i18n.format_date(day),
            met=i18n.format_number(met),
            total=i18n.format_number(len(table)),
            waived=i18n.format_number(waived),
        )
    )
    st.dataframe(
        table,
        hide_index=True,
        key="replan_preview",
        column_config={
            "criterion": st.column_config.TextColumn(_("Criterion"), pinned=True),
            "status": ui.coloured_labels(_("Status now"), charts.STATUS_THEME, words.status_word),
            "forecast": st.column_config.TextColumn(_("Reaches the target")),
            "now": ui.coloured_labels(
                _("Outlook at {date}", date=i18n.format_date(wave.go_live)),
                charts.OUTLOOK_THEME,
                words.outlook_word,
            ),
            "then": ui.coloured_labels(
                _("Outlook at {date}", date=i18n.format_date(day)),
                charts.OUTLOOK_THEME,
                words.outlook_word,
            ),
            "met_by": st.column_config.CheckboxColumn(_("Met by then")),
        },
    )


conn = ui.conn()
person = ui.actor()
today = services.today(conn)
st.title(_("Plan"))
ui.show_flash()

waves = analytics.waves(conn)
replans = analytics.wave_replans(conn)

st.subheader(_("Waves"))
if waves.empty:
    st.info(_("No waves yet; import them on the Data page."))
    st.stop()
results = ui.readiness_as_of(today)[1]
outlook = {w.wave: w for w in results}
meetings = analytics.latest_go_no_go(conn)
shown = waves.assign(
    days_to_go_live=[(history.as_date(d) - today).days for d in waves["go_live"]],
    replans=[int((replans["wave"] == c).sum()) for c in waves["code"]],
    go=[
        words.go_text(standing.go_status(outlook[c].go, d, today), d)
        for c, d in zip(waves["code"], waves["go_live"], strict=True)
    ],
    criteria_met=[sum(r.status == "met" for r in outlook[c].criteria) for c in waves["code"]],
    at_risk=[sum(r.outlook == "at_risk" for r in outlook[c].criteria) for c in waves["code"]],
    off_track=[sum(r.outlook == "off_track" for r in outlook[c].criteria) for c in waves["code"]],
    go_no_go=[meeting_word(meetings.get(c)) for c in waves["code"]],
).drop(columns=["row_version"])
shown["go_live"] = shown["go_live"].map(words.date_text)
st.dataframe(
    shown,
    hide_index=True,
    key="plan_waves",
    column_config=words.headers(words.WAVE_COLUMN_WORDS, shown.columns),
    # The steering committee's columns first: the go/no-go in view at 1440 px.
    column_order=[
        "code",
        "name",
        "go_live",
        "go",
        "go_no_go",
        "days_to_go_live",
        "criteria_met",
        "at_risk",
        "off_track",
        "replans",
        "organizations",
    ],  # fmt: skip
)
st.caption(
    _(
        "Readiness as of {date}: criteria met, and of the rest how many are at risk or off track "
        "at the recent rate against each go-live date.",
        date=i18n.format_date(today),
    )
)

st.subheader(_("Re-plan history"))
if replans.empty:
    st.write(_("No wave has been re-planned."))
else:
    ui.chart(
        lambda: charts.replan_timeline(replans, waves),
        about=_(
            "Each wave's go-live moves, from the old date to the new one per re-plan, and its current go-live date."
        ),
    )
    moves = replans[
        ["wave", "old_go_live", "new_go_live", "reason", "replanned_by_name", "replanned_at"]
    ].rename(columns={"replanned_by_name": "who"})
    for column in ("old_go_live", "new_go_live"):
        moves[column] = moves[column].map(words.date_text)
    moves["replanned_at"] = moves["replanned_at"].map(words.moment_text)
    st.dataframe(
        moves,
        hide_index=True,
        column_config=words.headers(words.REPLAN_COLUMN_WORDS, moves.columns),
    )

if permissions.allowed(person, "replan_wave"):
    st.subheader(_("Re-plan a wave"))
    names = {
        w.code: _("{name} · go-live {date}", name=w.name, date=words.date_text(w.go_live))
        for w in waves.itertuples()
    }
    # Each wave's version when the form was opened: a re-plan by someone else meanwhile
    # makes this one stale.
    versions = {w.code: ui.seen("wave", w.code, int(w.row_version)) for w in waves.itertuples()}
    # After a re-plan the form is new (ui.form_key): it shows the wave's new date, and a second
    # click on the old button finds nothing to submit.
    form = ui.form_key("replan")
    code = st.selectbox(_("Wave"), list(names), format_func=names.get, key="replan_wave")
    current = history.as_date(waves.set_index("code").loc[code, "go_live"])
    new_date = st.date_input(
        _("New go-live date"), value=current, format=DATE_INPUT, key=f"{form}_date_{code}"
    )
    if new_date and new_date != current:
        preview(outlook[code], new_date)
    else:
        st.caption(_("Choose another date to see what it does to the outlook."))
    with st.form(form):
        reason = st.text_area(_("Reason (required)"), key=f"{form}_reason")
        if st.form_submit_button(_("Re-plan"), type="primary"):
            for seen_code in versions:
                ui.forget("wave", seen_code)
            ui.form_saved("replan")  # before the change: a second click then finds no form
            try:
                planning.replan_wave(
                    conn, person, code, go_live=new_date, reason=reason, row_version=versions[code]
                )
            except WorkflowError as error:
                ui.form_refused("replan")
                ui.show_refusal(error)
            else:
                ui.flash(
                    _(
                        "{wave} re-planned to {date}; the outlook above is updated.",
                        wave=outlook[code].name,
                        date=i18n.format_date(new_date),
                    )
                )
                st.rerun()

st.subheader(_("Organisations"))
organisations = analytics.organizations(conn)
organisations["kind"] = organisations["kind"].map(words.organisation_kind_word)
st.dataframe(
    organisations,
    hide_index=True,
    key="plan_orgs",
    column_config=words.headers(words.ORGANISATION_COLUMN_WORDS, organisations.columns),
)
