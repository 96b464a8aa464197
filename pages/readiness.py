"""Readiness: one wave's go-live criteria as of a date, with status, trend, forecast and
waivers; the burn-up against go-live; the records behind each number; the report for the
steering committee."""

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from decisions import io as data_io
from decisions import permissions, planning, readiness, services
from decisions.charts import readiness as charts
from decisions.model import WorkflowError
from decisions.store import analytics

STATUS_LABELS = {"met": "met", "not_met": "not met", "waived": "waived", "no_data": "no data"}
OUTLOOK_LABELS = {
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "no_data": "no data",
}


def criteria_table(wave: readiness.WaveReadiness) -> pd.DataFrame:
    rows = []
    for c in wave.criteria:
        crit = c.criterion
        waiver = f"{crit.waiver_reason} (until {crit.waiver_until})" if crit.waiver_reason else ""
        rows.append(
            {
                "code": c.code,
                "criterion": crit.name,
                "status": STATUS_LABELS[c.status],
                "value": c.value,
                "target": f"{crit.comparator} {crit.threshold:g}",
                "trend": [v for _, v in c.trend if v is not None],
                "forecast": c.forecast.isoformat() if c.forecast else "",
                "outlook": OUTLOOK_LABELS[c.outlook],
                "says": readiness.outlook_text(c, wave.go_live),
                "waiver": waiver,
                "owner": crit.owner or "",
            }
        )
    return pd.DataFrame(rows)


def pick_wave(waves: pd.DataFrame, today: dt.date) -> str:
    codes = list(waves["code"])
    upcoming = [w.code for w in waves.itertuples() if w.go_live >= today.isoformat()]
    wanted = st.query_params.get("wave")
    default = wanted if wanted in codes else (upcoming[0] if upcoming else codes[-1])
    names = {w.code: f"{w.name} · go-live {w.go_live}" for w in waves.itertuples()}
    code = st.selectbox(
        "Wave", codes, index=codes.index(default), format_func=names.get, key="readiness_wave"
    )
    st.query_params["wave"] = code
    return code


def summary(wave: readiness.WaveReadiness) -> None:
    counts = pd.Series([c.status for c in wave.criteria]).value_counts()
    outlooks = pd.Series([c.outlook for c in wave.criteria if c.status != "met"]).value_counts()
    left = (wave.go_live - wave.as_of).days
    text = (
        f"{counts.get('met', 0)} met, {counts.get('waived', 0)} waived, "
        f"{counts.get('not_met', 0)} not met, {counts.get('no_data', 0)} without data; "
        f"outlook of the rest at the recent rate: {outlooks.get('at_risk', 0)} at risk, "
        f"{outlooks.get('off_track', 0)} off track."
    )
    when = f"{left} days to go-live" if left >= 0 else f"went live {-left} days before"
    if wave.go:
        st.success(
            f"**GO** as of {wave.as_of} ({when}): every criterion met or waived. {text}",
            icon=":material/check_circle:",
        )
    else:
        st.error(f"**NO GO** as of {wave.as_of} ({when}). {text}", icon=":material/block:")


def show_records(wave: readiness.WaveReadiness, code: str) -> None:
    result = wave.result(code)
    behind = readiness.records(ui.conn(), wave, code)
    st.subheader(f"Behind {ui.md(code)}: {ui.md(result.criterion.name)}")
    if result.criterion.kind == "reported":
        st.caption("Measurements reported up to the as-of date, latest first.")
    elif behind.empty:
        st.caption("Nothing stands in the way of this criterion.")
        return
    else:
        st.caption(f"{len(behind):,} records as of {wave.as_of}.")
    if "stage" in behind.columns:
        ui.decision_table(behind, f"records_{code}")
    else:
        st.dataframe(behind, hide_index=True, key=f"records_{code}")
    if result.criterion.metric in ("open_sev1_defects", "open_sev2_defects"):
        disagree = readiness.severity_disagreements(ui.conn(), wave)
        st.caption(
            f"Open defects where vendor and clinicians disagree on severity "
            f"(the worse rating counts): {len(disagree):,}"
        )
        st.dataframe(disagree, hide_index=True, key=f"disagree_{code}")


def edit_criterion(conn, person, wave: readiness.WaveReadiness, code: str) -> None:
    crit = wave.result(code).criterion
    form = f"criterion_{wave.wave}_{code}"
    # The version the form was opened with: a save by someone else meanwhile makes it stale.
    stored = planning.FROM_DEFAULTS if crit.row_version is None else crit.row_version
    version = ui.seen("criterion", f"{wave.wave}:{code}", stored)
    with (
        st.expander(f"Change {ui.md(code)}: threshold, owner, waiver", icon=":material/edit:"),
        st.form(form),
    ):
        comparator = st.selectbox(
            "Comparator",
            readiness.COMPARATORS,
            index=readiness.COMPARATORS.index(crit.comparator),
            key=f"{form}_comparator",
        )
        threshold = st.number_input(
            "Threshold", value=float(crit.threshold), key=f"{form}_threshold"
        )
        owner = st.text_input("Owner (email)", value=crit.owner or "", key=f"{form}_owner")
        reason = st.text_input(
            "Waiver reason", value=crit.waiver_reason or "", key=f"{form}_reason"
        )
        until = st.date_input(
            "Waiver until", value=history_date(crit.waiver_until), key=f"{form}_until"
        )
        if st.form_submit_button("Save criterion", type="primary", key=f"{form}_save"):
            fields = {
                "comparator": comparator,
                "threshold": threshold,
                "owner": owner,
                "waiver_reason": reason,
                "waiver_until": until if reason else None,
            }
            ui.forget("criterion", f"{wave.wave}:{code}")
            try:
                planning.save_criterion(conn, person, wave.wave, code, fields, row_version=version)
            except WorkflowError as error:
                ui.show_refusal(error)
            else:
                ui.flash(f"Criterion {code} saved.")
                st.rerun()


def record_measurement(conn, person, wave: readiness.WaveReadiness, code: str) -> None:
    crit = wave.result(code).criterion
    form = f"measure_{wave.wave}_{code}"
    with (
        st.expander(f"Report a value for {ui.md(code)}", icon=":material/add_chart:"),
        st.form(form, clear_on_submit=True),
    ):
        value = st.number_input("Value", value=None, placeholder=crit.metric, key=f"{form}_value")
        date = st.date_input("Measured on", value=services.today(conn), key=f"{form}_date")
        url = st.text_input("Evidence link", key=f"{form}_url")
        if st.form_submit_button("Record", type="primary", key=f"{form}_save"):
            try:
                planning.record_measurement(
                    conn, person, wave.wave, code, value=value, date=date, evidence_url=url
                )
            except WorkflowError as error:
                ui.show_refusal(error)
            else:
                ui.flash(f"Measurement of {code} recorded.")
                st.rerun()


def _selected_code() -> str | None:
    rows = st.session_state["criteria_table"].selection.rows
    return table.iloc[rows[0]]["code"] if rows else st.session_state.get("readiness_records")


def history_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


conn = ui.conn()
person = ui.actor()
today = services.today(conn)
st.title("Go-live readiness")
ui.show_flash()
waves = analytics.waves(conn)
if waves.empty:
    st.info("No waves yet. Add them on the Plan page or import them on the Data page.")
    st.stop()

left, right = st.columns([3, 1])
with left:
    code = pick_wave(waves, today)
with right:
    as_of = st.date_input(
        "As of",
        value=today,
        max_value=today,
        key="readiness_as_of",
        help="See the readiness as it stood on an earlier date",
    )
assessed = ui.readiness_computed(as_of)
programme, results = assessed.value
ui.figures_as_of(assessed)
wave = next(w for w in results if w.wave == code)
summary(wave)

table = criteria_table(wave)
st.dataframe(
    table.drop(columns=["code"]),
    hide_index=True,
    height=36 * (len(table) + 1) + 4,  # every criterion in view, no inner scrolling
    key="criteria_table",
    on_select=lambda: st.session_state.update(readiness_records=_selected_code()),
    selection_mode="single-row",
    column_config={
        "criterion": st.column_config.TextColumn(pinned=True),
        "value": st.column_config.NumberColumn(format="%g", width=70),
        "forecast": st.column_config.TextColumn(width=95),
        "trend": st.column_config.LineChartColumn(f"trend ({readiness.TREND_WEEKS} weeks)"),
        "says": st.column_config.TextColumn("at the recent rate", width="large"),
    },
)


@ui.fragment
def records_behind(wave: readiness.WaveReadiness) -> None:
    """Choosing a criterion reruns only this part, not the table, the burn-up or the report."""
    labels = {c.code: f"{c.code} · {c.criterion.name}" for c in wave.criteria}
    chosen = st.selectbox(
        "Show the records behind",
        list(labels),
        index=None,
        format_func=labels.get,
        key="readiness_records",
        placeholder="Choose a criterion, or click a row",
    )
    if not chosen:
        return
    show_records(wave, chosen)
    if permissions.allowed(person, "save_criterion"):
        edit_criterion(ui.conn(), person, wave, chosen)
    crit = wave.result(chosen).criterion
    owned = permissions.Target(owner=crit.owner or "")
    if crit.kind == "reported" and permissions.allowed(person, "record_measurement", owned):
        record_measurement(ui.conn(), person, wave, chosen)


records_behind(wave)

st.subheader("Burn-up")
st.caption(
    "Decisions in the wave's scope reaching approved and ready, week by week; the dashed "
    f"lines carry the last {readiness.FORECAST_WEEKS} weeks' rate on to go-live."
)
series = readiness.burn_up(programme, wave, readiness.BURN_UP_WEEKS)
forecast = readiness.burn_up_forecast(series, wave.go_live)


def burn() -> object:
    return charts.burn_up_chart(series, forecast, wave.go_live, wave.as_of)


ui.chart(burn, ("burn_up", code, as_of, assessed.event_id))

title = f"{wave.name}: readiness as of {wave.as_of} ({'GO' if wave.go else 'NO GO'})"
report = table[["criterion", "status", "value", "target", "forecast", "outlook"]].assign(
    value=[("" if pd.isna(v) else f"{v:g}") for v in table["value"]]
)
left, right = st.columns(2)
left.download_button(
    "Readiness report (PNG)",
    key="report_png",
    mime="image/png",
    data=lambda: charts.to_png(charts.report_chart(title, report, burn())),
    file_name=f"readiness-{wave.wave}-{wave.as_of}.png",
    icon=":material/download:",
)
right.download_button(
    "Criteria table (CSV)",
    key="report_csv",
    mime="text/csv",
    data=data_io.table_csv(table.drop(columns=["trend"])),
    file_name=f"readiness-{wave.wave}-{wave.as_of}.csv",
    icon=":material/table:",
)
