"""Readiness: one wave's go-live criteria as of a date, with status, trend, forecast and
waivers; the burn-up against go-live; the records behind each number; the report for the
steering committee."""

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from decisions import i18n, permissions, planning, readiness, services, words
from decisions import io as data_io
from decisions.charts import readiness as charts
from decisions.i18n import _, n_
from decisions.model import WorkflowError
from decisions.store import analytics, queues, screen_queries
from decisions.store import people as people_store


def waiver_text(criterion: readiness.Criterion, names: dict[str, str]) -> str:
    if not criterion.waiver_reason:
        return ""
    by = words.person_text(criterion.waived_by, names) or _("unknown")
    if criterion.waiver_until:
        return _("{reason} (by {who}, until {date})", reason=criterion.waiver_reason, who=by,
                 date=words.date_text(criterion.waiver_until))  # fmt: skip
    return _("{reason} (by {who}, no end date)", reason=criterion.waiver_reason, who=by)


def criteria_table(conn, wave: readiness.WaveReadiness) -> pd.DataFrame:
    people = [p for c in wave.criteria for p in (c.criterion.owner, c.criterion.waived_by) if p]
    names = screen_queries.people_names(conn, people)
    waivers = {c.code: waiver_text(c.criterion, names) for c in wave.criteria}
    return charts.criteria_table(wave, waivers, names)


def pick_wave(waves: pd.DataFrame, today: dt.date) -> str:
    codes = list(waves["code"])
    upcoming = [w.code for w in waves.itertuples() if w.go_live >= today.isoformat()]
    wanted = st.query_params.get("wave")
    default = wanted if wanted in codes else (upcoming[0] if upcoming else codes[-1])
    names = {
        w.code: _("{name} · go-live {date}", name=w.name, date=words.date_text(w.go_live))
        for w in waves.itertuples()
    }
    code = st.selectbox(
        _("Wave"), codes, index=codes.index(default), format_func=names.get, key="readiness_wave"
    )
    st.query_params["wave"] = code
    return code


def summary(wave: readiness.WaveReadiness) -> None:
    counts = pd.Series([c.status for c in wave.criteria]).value_counts()
    outlooks = pd.Series([c.outlook for c in wave.criteria if c.status == "not_met" or
                          c.status == "no_data"]).value_counts()  # fmt: skip
    left = (wave.go_live - wave.as_of).days
    number = lambda key, of=counts: i18n.format_number(int(of.get(key, 0)))  # noqa: E731
    text = _(
        "{met} met, {waived} waived, {not_met} not met, {no_data} without data; outlook of the "
        "rest at the recent rate: {at_risk} at risk, {off_track} off track.",
        met=number("met"), waived=number("waived"), not_met=number("not_met"),
        no_data=number("no_data"), at_risk=number("at_risk", outlooks),
        off_track=number("off_track", outlooks),
    )  # fmt: skip
    if left >= 0:
        when = n_("{count} day to go-live", "{count} days to go-live", left)
    else:
        when = n_("went live {count} day before", "went live {count} days before", -left)
    day = i18n.format_date(wave.as_of)
    if wave.go:
        st.success(
            _("**GO** as of {date} ({when}): every criterion met or waived. {text}",
              date=day, when=when, text=text),
            icon=":material/check_circle:",
        )  # fmt: skip
    else:
        st.error(
            _("**NO GO** as of {date} ({when}). {text}", date=day, when=when, text=text),
            icon=":material/block:",
        )


def go_no_go_text(record: dict) -> str:
    """The decision in one line (plain text: the forum's name is typed by a person)."""
    outcome = words.outcome_word(record["outcome"])
    return _("Go/no-go meeting {date}, {forum}: {outcome}",
             date=words.date_text(record["meeting_date"]), forum=record["forum_name"],
             outcome=outcome)  # fmt: skip


def frozen_criteria(record: dict) -> pd.DataFrame:
    """The criteria as they stood at the meeting, as the criteria table shows them."""
    return pd.DataFrame(
        [
            {
                _("Criterion"): c["name"],
                _("Status"): words.status_word(c.get("status")),
                _("Value"): charts.amount(c["value"], c["metric"]),
                _("Target"): f"{charts.COMPARATOR_SIGNS.get(c['comparator'], c['comparator'])} "
                + charts.amount(c["threshold"], c["metric"]),
            }
            for c in record["criteria"]["criteria"]
        ]
    )


def go_no_go_table(records: list[dict]) -> pd.DataFrame:
    """Every meeting's decision, latest first (also the CSV download)."""
    return pd.DataFrame(
        [
            {
                _("Meeting"): words.date_text(r["meeting_date"]),
                _("Forum"): r["forum_name"],
                _("Decision"): words.outcome_word(r["outcome"]),
                _("Conditions"): r["conditions"],
                _("Minutes"): r["minutes"],
                _("Recorded by"): r["recorded_by_name"],
            }
            for r in records
        ]
    )


def show_go_no_go(records: list[dict]) -> None:
    """The latest go/no-go decision, its minutes and the criteria as they stood, and the
    earlier ones."""
    if not records:
        st.caption(_("No go/no-go decision recorded for this wave yet."))
        return
    latest = records[0]
    line = ui.md(go_no_go_text(latest))
    if latest["conditions"]:
        line += "  \n" + _("Conditions: {conditions}", conditions=ui.md(latest["conditions"]))
    icon = {"go": ":material/check_circle:", "no_go": ":material/block:"}
    st.info(line, icon=icon.get(latest["outcome"], ":material/rule:"))
    with st.expander(_("Minutes and the criteria as they stood at the meeting")):
        st.text(latest["minutes"])
        frozen = frozen_criteria(latest)
        st.dataframe(frozen, hide_index=True, height=36 * (len(frozen) + 1) + 4)
        st.markdown(_("**Every go/no-go meeting on this wave**"))
        st.dataframe(go_no_go_table(records), hide_index=True)
        st.download_button(
            _("Go/no-go decisions (CSV)"),
            key="go_no_go_csv",
            mime="text/csv",
            data=data_io.table_csv(go_no_go_table(records)),
            file_name=f"go-no-go-{latest['wave']}.csv",
            icon=":material/table:",
        )


def record_go_no_go(conn, person, wave: readiness.WaveReadiness) -> None:
    forums = people_store.forums(conn).sort_values("level", ascending=False)
    names = dict(zip(forums["code"], forums["name"], strict=True))
    form = ui.form_key(f"go_no_go_{wave.wave}")
    with (
        st.expander(_("Record the go/no-go decision"), icon=":material/gavel:"),
        st.form(form),
    ):
        outcome = st.radio(
            _("Decision"),
            planning.GO_NO_GO_OUTCOMES,
            format_func=words.outcome_word,
            horizontal=True,
            key=f"{form}_outcome",
        )
        left, right = st.columns(2)
        day = left.date_input(_("Meeting date"), value=services.today(conn),
                              max_value=services.today(conn), format=DATE_INPUT,
                              key=f"{form}_date")  # fmt: skip
        forum = right.selectbox(_("Forum"), list(names), format_func=names.get, key=f"{form}_forum")
        conditions = st.text_area(_("Conditions (for a go with conditions)"), key=f"{form}_cond")
        minutes = st.text_area(_("Minutes (required)"), key=f"{form}_minutes")
        st.caption(_("The criteria are kept as they stood on the meeting's date."))
        if st.form_submit_button(_("Record the decision"), type="primary"):
            ui.form_saved(f"go_no_go_{wave.wave}")
            try:
                planning.record_go_no_go(conn, person, wave.wave, outcome=outcome,
                                         meeting_date=day, forum=forum, minutes=minutes,
                                         conditions=conditions)  # fmt: skip
            except WorkflowError as error:
                ui.form_refused(f"go_no_go_{wave.wave}")
                ui.show_refusal(error)
            else:
                ui.flash(_("Go/no-go decision on {wave} recorded.", wave=wave.name))
                st.rerun()


def show_records(wave: readiness.WaveReadiness, code: str) -> None:
    result = wave.result(code)
    behind = readiness.records(ui.conn(), wave, code)
    st.subheader(
        _(
            "Behind {code}: {name}",
            code=ui.md(code),
            name=ui.md(words.criterion_name(code, result.criterion.name)),
        )
    )
    if result.criterion.kind == "reported":
        st.caption(_("Measurements reported up to the as-of date, latest first."))
    elif behind.empty:
        st.caption(_("Nothing stands in the way of this criterion."))
        return
    else:
        st.caption(
            n_("{count} record as of {date}.", "{count} records as of {date}.", len(behind),
               date=i18n.format_date(wave.as_of))
        )  # fmt: skip
    if "stage" in behind.columns:
        ui.decision_table(words.readable(behind, queues.code_names(ui.conn())), f"records_{code}")
    else:
        st.dataframe(
            words.records_readable(behind),
            hide_index=True,
            key=f"records_{code}",
            column_config=record_words(behind),
        )
    if result.criterion.metric in ("open_sev1_defects", "open_sev2_defects"):
        disagree = readiness.severity_disagreements(ui.conn(), wave)
        st.caption(
            _("Open defects where vendor and clinicians disagree on severity (the worse rating "
              "counts): {count}", count=i18n.format_number(len(disagree)))
        )  # fmt: skip
        st.dataframe(
            words.records_readable(disagree),
            hide_index=True,
            key=f"disagree_{code}",
            column_config=record_words(disagree),
        )


def owner_line(conn, criterion: readiness.Criterion) -> None:
    """The criterion's owner by name, the email on hover."""
    if criterion.owner:
        name = words.person_text(
            criterion.owner, screen_queries.people_names(conn, [criterion.owner])
        )
        st.caption(_("Owner: {name}", name=ui.md(name)), help=ui.md(criterion.owner))


def record_words(frame: pd.DataFrame) -> dict[str, str]:
    """The records' headers in words (a column not named here keeps its name)."""
    return words.headers(words.RECORD_COLUMN_WORDS, frame.columns)


def edit_criterion(conn, person, wave: readiness.WaveReadiness, code: str) -> None:
    crit = wave.result(code).criterion
    form = f"criterion_{wave.wave}_{code}"
    # The version the form was opened with: a save by someone else meanwhile makes it stale.
    stored = planning.FROM_DEFAULTS if crit.row_version is None else crit.row_version
    version = ui.seen("criterion", f"{wave.wave}:{code}", stored)
    with (
        st.expander(
            _("Change {code}: threshold, owner, waiver", code=ui.md(code)), icon=":material/edit:"
        ),
        st.form(form),
    ):
        comparator = st.selectbox(
            _("Comparator"),
            readiness.COMPARATORS,
            index=readiness.COMPARATORS.index(crit.comparator),
            format_func=lambda c: charts.COMPARATOR_SIGNS.get(c, c),
            key=f"{form}_comparator",
        )
        threshold = st.number_input(
            _("Threshold"), value=float(crit.threshold), key=f"{form}_threshold"
        )
        owner = st.text_input(_("Owner (email)"), value=crit.owner or "", key=f"{form}_owner")
        reason = st.text_input(
            _("Waiver reason"), value=crit.waiver_reason or "", key=f"{form}_reason"
        )
        until = st.date_input(
            _("Waiver until"),
            value=history_date(crit.waiver_until),
            format=DATE_INPUT,
            key=f"{form}_until",
        )
        if st.form_submit_button(_("Save criterion"), type="primary", key=f"{form}_save"):
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
                ui.flash(_("Criterion {code} saved.", code=code))
                st.rerun()


def record_measurement(conn, person, wave: readiness.WaveReadiness, code: str) -> None:
    form = f"measure_{wave.wave}_{code}"
    with (
        st.expander(_("Report a value for {code}", code=ui.md(code)), icon=":material/add_chart:"),
        st.form(form, clear_on_submit=True),
    ):
        value = st.number_input(
            _("Value"), value=None, placeholder=_("A number"), key=f"{form}_value"
        )
        date = st.date_input(
            _("Measured on"), value=services.today(conn), format=DATE_INPUT, key=f"{form}_date"
        )
        url = st.text_input(_("Evidence link"), key=f"{form}_url")
        if st.form_submit_button(_("Record"), type="primary", key=f"{form}_save"):
            try:
                planning.record_measurement(
                    conn, person, wave.wave, code, value=value, date=date, evidence_url=url
                )
            except WorkflowError as error:
                ui.show_refusal(error)
            else:
                ui.flash(_("Measurement of {code} recorded.", code=code))
                st.rerun()


def _selected_code() -> str | None:
    rows = st.session_state["criteria_table"].selection.rows
    return table.iloc[rows[0]]["code"] if rows else st.session_state.get("readiness_records")


def history_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


DATE_INPUT = "DD.MM.YYYY" if i18n.language() == "nb" else "YYYY-MM-DD"

conn = ui.conn()
person = ui.actor()
today = services.today(conn)
st.title(_("Go-live readiness"))
ui.show_flash()
waves = analytics.waves(conn)
if waves.empty:
    st.info(_("No waves yet. Add them on the Plan page or import them on the Data page."))
    st.stop()

left, right = st.columns([3, 1])
with left:
    code = pick_wave(waves, today)
with right:
    as_of = st.date_input(
        _("As of"),
        value=today,
        max_value=today,
        format=DATE_INPUT,
        key="readiness_as_of",
        help=_("See the readiness as it stood on an earlier date"),
    )
assessed = ui.readiness_computed(as_of)
programme, results = assessed.value
ui.figures_as_of(assessed)
wave = next(w for w in results if w.wave == code)
summary(wave)
meetings = analytics.go_no_go(conn, code)
show_go_no_go(meetings)
if permissions.allowed(person, "record_go_no_go"):
    record_go_no_go(conn, person, wave)

table = ui.worded(
    ("readiness.criteria", code, as_of, assessed.event_id), lambda: criteria_table(conn, wave)
)
st.dataframe(
    table,
    hide_index=True,
    height=36 * (len(table) + 1) + 4,  # every criterion in view, no inner scrolling
    key="criteria_table",
    on_select=lambda: st.session_state.update(readiness_records=_selected_code()),
    selection_mode="single-row",
    # At 1440 px every column is in view: the waiver and owner without scrolling sideways.
    column_order=[
        "criterion",
        "status_shown",
        "shown_value",
        "target",
        "trend",
        "forecast",
        "outlook",
        "waiver",
        "owner",
    ],  # fmt: skip
    column_config={
        "criterion": st.column_config.TextColumn(_("Criterion"), pinned=True, width=160),
        "status_shown": ui.coloured_labels(_("Status"), charts.STATUS_THEME, words.status_word, 90),
        "shown_value": st.column_config.TextColumn(_("Value"), width=60),
        "target": st.column_config.TextColumn(_("Target"), width=60),
        "trend": st.column_config.LineChartColumn(
            _("Trend ({weeks} weeks)", weeks=readiness.TREND_WEEKS), width=65
        ),
        "forecast": st.column_config.TextColumn(
            _("Reaches the target"),
            width=95,
            help=_(
                "The date the recent trend reaches the target; the outlook says how that lies to go-live"
            ),
        ),
        "outlook": ui.coloured_labels(
            _("Outlook at go-live"), charts.OUTLOOK_THEME, words.outlook_word, 90
        ),
        "waiver": st.column_config.TextColumn(_("Waiver"), width=160),
        "owner": st.column_config.TextColumn(
            _("Owner"), width=130, help=_("Choose the criterion to see its owner's email")
        ),
    },
)


@ui.fragment
def records_behind(wave: readiness.WaveReadiness) -> None:
    """Choosing a criterion reruns only this part, not the table, the burn-up or the report."""
    labels = {c.code: f"{c.code} · {words.criterion_name(c.code, c.criterion.name)}"
              for c in wave.criteria}  # fmt: skip
    chosen = st.selectbox(
        _("Show the records behind"),
        list(labels),
        index=None,
        format_func=labels.get,
        key="readiness_records",
        placeholder=_("Choose a criterion, or click a row"),
    )
    if not chosen:
        return
    owner_line(ui.conn(), wave.result(chosen).criterion)
    show_records(wave, chosen)
    if permissions.allowed(person, "save_criterion"):
        edit_criterion(ui.conn(), person, wave, chosen)
    crit = wave.result(chosen).criterion
    owned = permissions.Target(owner=crit.owner or "")
    if crit.kind == "reported" and permissions.allowed(person, "record_measurement", owned):
        record_measurement(ui.conn(), person, wave, chosen)


records_behind(wave)

st.subheader(_("Burn-up"))
st.caption(
    _("Decisions in the wave's scope reaching approved and ready, week by week; the dashed lines "
      "carry the last {weeks} weeks' rate on to go-live.", weeks=readiness.FORECAST_WEEKS)
)  # fmt: skip


def burn() -> object:
    """The burn-up chart (its spec is made once per wave and change, not on every run)."""
    series = readiness.burn_up(programme, wave, readiness.BURN_UP_WEEKS)
    forecast = readiness.burn_up_forecast(series, wave.go_live)
    return charts.burn_up_chart(series, forecast, wave.go_live, wave.as_of)


ui.chart(
    burn,
    ("burn_up", code, as_of, assessed.event_id),
    about=_(
        "Decisions in the wave's scope reaching approved and ready week by week, with the forecast to go-live."
    ),
)

title = _("{wave}: readiness as of {date} ({verdict})", wave=wave.name,
          date=i18n.format_date(wave.as_of), verdict=_("GO") if wave.go else _("NO GO"))  # fmt: skip
png, csv, xlsx = st.columns(3)
png.download_button(
    _("Readiness report (PNG)"),
    key="report_png",
    mime="image/png",
    data=i18n.in_language(
        lambda: charts.to_png(
            charts.report_chart(
                title,
                charts.report_table(table),
                burn(),
                charts.report_headers(),
                go_no_go_text(meetings[0]) if meetings else "",
            )  # fmt: skip
        )
    ),
    file_name=f"readiness-{wave.wave}-{wave.as_of}.png",
    icon=":material/download:",
    on_click="ignore",  # a rerun on the click can replace the file being made: no download
)
csv.download_button(
    _("Criteria table (CSV)"),
    key="report_csv",
    mime="text/csv",
    data=i18n.in_language(lambda: data_io.table_csv(charts.csv_table(table))),
    file_name=f"readiness-{wave.wave}-{wave.as_of}.csv",
    icon=":material/table:",
    on_click="ignore",  # a rerun on the click can replace the file being made: no download
)
xlsx.download_button(
    _("Criteria table (xlsx)"),
    key="report_xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    data=i18n.in_language(lambda: data_io.table_xlsx(charts.csv_table(table), wave.wave)),
    file_name=f"readiness-{wave.wave}-{wave.as_of}.xlsx",
    icon=":material/table_view:",
    on_click="ignore",  # a rerun on the click can replace the file being made: no download
)
