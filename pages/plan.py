"""Plan: the organisations and go-live waves, each wave's re-plan history as a timeline, and
re-planning a wave (managers), with the readiness outlook that moves with it."""

import streamlit as st

import ui
from decisions import history, permissions, planning, services, views
from decisions.charts import readiness as charts
from decisions.model import WorkflowError
from decisions.store import analytics

conn = ui.conn()
person = ui.actor()
today = services.today(conn)
st.title("Plan")
ui.show_flash()

waves = analytics.waves(conn)
replans = analytics.wave_replans(conn)

st.subheader("Waves")
if waves.empty:
    st.info("No waves yet; import them on the Data page.")
    st.stop()
results = ui.readiness_as_of(today)[1]
outlook = {w.wave: w for w in results}
shown = waves.assign(
    days_to_go_live=[(history.as_date(d) - today).days for d in waves["go_live"]],
    replans=[int((replans["wave"] == c).sum()) for c in waves["code"]],
    go=[
        views.go_status(outlook[c].go, d, today)
        for c, d in zip(waves["code"], waves["go_live"], strict=True)
    ],
    criteria_met=[sum(r.status == "met" for r in outlook[c].criteria) for c in waves["code"]],
    at_risk=[sum(r.outlook == "at_risk" for r in outlook[c].criteria) for c in waves["code"]],
    off_track=[sum(r.outlook == "off_track" for r in outlook[c].criteria) for c in waves["code"]],
).drop(columns=["row_version"])
st.dataframe(shown, hide_index=True, key="plan_waves")
st.caption(
    f"Readiness as of {today}: criteria met, and of the rest how many are at risk or off "
    "track at the recent rate against each go-live date."
)

st.subheader("Re-plan history")
if replans.empty:
    st.write("No wave has been re-planned.")
else:
    ui.chart(lambda: charts.replan_timeline(replans, waves))
    st.dataframe(
        replans[
            ["wave", "old_go_live", "new_go_live", "reason", "replanned_by_name", "replanned_at"]
        ].rename(columns={"replanned_by_name": "who"}),
        hide_index=True,
    )

if permissions.allowed(person, "replan_wave"):
    st.subheader("Re-plan a wave")
    names = {w.code: f"{w.name} · go-live {w.go_live}" for w in waves.itertuples()}
    # Each wave's version when the form was opened: a re-plan by someone else meanwhile
    # makes this one stale.
    versions = {w.code: ui.seen("wave", w.code, int(w.row_version)) for w in waves.itertuples()}
    with st.form("replan"):
        code = st.selectbox("Wave", list(names), format_func=names.get, key="replan_wave")
        new_date = st.date_input("New go-live date", value=None, key="replan_date")
        reason = st.text_area("Reason (required)", key="replan_reason")
        if st.form_submit_button("Re-plan", type="primary"):
            for seen_code in versions:
                ui.forget("wave", seen_code)
            try:
                planning.replan_wave(
                    conn, person, code, go_live=new_date, reason=reason, row_version=versions[code]
                )
            except WorkflowError as error:
                ui.show_refusal(error)
            else:
                ui.flash(f"{names[code]} re-planned to {new_date}; the outlook above is updated.")
                st.rerun()

st.subheader("Organisations")
st.dataframe(analytics.organizations(conn), hide_index=True, key="plan_orgs")
