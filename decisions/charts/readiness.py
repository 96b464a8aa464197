"""Charts of the readiness page: the burn-up with the go-live rule and the forecast, the
criteria's sparklines, the criteria table the page, its CSV and the PNG report for the steering
committee share, and the colours and signs a criterion's status, outlook, value and target are
shown with (Readiness and Plan); decisions.words gives the words."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import vl_convert

from decisions import i18n, readiness, words
from decisions.charts import spec, tip
from decisions.i18n import _

SERIES = ["scope", "approved or further", "ready"]
SERIES_COLORS = ["#636363", "#fd8d3c", "#238b45"]


# Streamlit theme colours of a status and an outlook (the pages' coloured labels).
STATUS_THEME = {"met": "green", "not_met": "red", "waived": "violet", "no_data": "gray"}
OUTLOOK_THEME = {"on_track": "green", "at_risk": "orange", "off_track": "red", "no_data": "gray",
                 "waived": "violet"}  # fmt: skip
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "==": "="}


def amount(value: float | None, metric: str) -> str:
    """A criterion's value or threshold with its unit, as the reader writes numbers."""
    if value is None or value != value:
        return ""
    if readiness.unit(metric) == "%":
        return i18n.format_percent(value / 100, 0 if float(value).is_integer() else 1)
    return i18n.format_number(value, 0 if float(value).is_integer() else 2)


def outlook_key(result: readiness.CriterionResult, go_live: dt.date | None = None) -> str:
    """The outlook at go-live (or at `go_live`, a re-plan's date); a waived criterion reads as
    waived, not as off track."""
    if result.waived:
        return "waived"
    return result.outlook if go_live is None else readiness.outlook_on(result, go_live)


def criteria_table(
    wave: readiness.WaveReadiness, waivers: dict[str, str], names: dict[str, str] | None = None
) -> pd.DataFrame:
    """The wave's criteria as the Readiness page shows them, and as its CSV and PNG report
    give them (`csv_table`, `report_table`): status, value, target, trend, the forecast as
    words.forecast_text words readiness.forecast, the outlook; `waivers` by criterion code;
    the owner by name (`names`: email -> name), with `owner_email` beside it."""
    rows = []
    for c in wave.criteria:
        crit = c.criterion
        sign = COMPARATOR_SIGNS.get(crit.comparator, crit.comparator)
        rows.append(
            {
                "code": c.code,
                "criterion": words.criterion_name(c.code, crit.name),
                "status": words.status_word(c.status),
                "status_shown": [c.status],
                "value": c.value,
                "shown_value": amount(c.value, crit.metric),
                "target": f"{sign} {amount(crit.threshold, crit.metric)}",
                "trend": [v for _, v in c.trend if v is not None],
                "forecast": words.forecast_text(
                    c.forecast_code, c.forecast, wave.go_live, relative=False
                ),
                "outlook": [outlook_key(c)],
                "outlook_word": words.outlook_word(outlook_key(c)),
                "unmet": c.status == "not_met",
                "waiver": waivers.get(c.code, ""),
                "owner": words.person_text(crit.owner, names or {}),
                "owner_email": crit.owner or "",
            }
        )
    return pd.DataFrame(rows)


def csv_table(table: pd.DataFrame) -> pd.DataFrame:
    """The criteria table as the CSV gives it: the words shown, headers in words."""
    shown = table.drop(columns=["outlook"]).rename(columns={"outlook_word": "outlook"})
    headers = {
        k: _(v, weeks=readiness.TREND_WEEKS) for k, v in words.READINESS_COLUMN_WORDS.items()
    }
    columns = [c for c in words.READINESS_COLUMN_WORDS if c in shown and c != "trend"]
    return shown[columns].rename(columns=headers)


def report_table(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the PNG report (REPORT_COLUMNS), without icons (the PNG's font has none);
    unmet criteria drawn in red."""
    return table.assign(value=table["shown_value"], outlook=table["outlook_word"])[
        [*REPORT_COLUMNS, "unmet"]
    ]


def report_headers() -> dict[str, str]:
    """The PNG report's column titles in the reader's language."""
    names = {**words.READINESS_COLUMN_WORDS, "value": words.READINESS_COLUMN_WORDS["shown_value"]}
    return {c: _(names[c]) for c in REPORT_COLUMNS}


def _series_words(frame: pd.DataFrame) -> pd.DataFrame:
    """The series named in the reader's language (`label`)."""
    return frame.assign(label=frame["series"].map(words.series_word))


def _series_color() -> alt.Color:
    return alt.Color(
        "label",
        type="nominal",
        title=None,
        scale=alt.Scale(domain=[words.series_word(s) for s in SERIES], range=SERIES_COLORS),
        legend=alt.Legend(orient="top"),
    )


def burn_up_chart(
    series: pd.DataFrame, forecast: pd.DataFrame, go_live: dt.date, as_of: dt.date
) -> alt.LayerChart:
    """Decisions in scope, at approved or further, and ready, week by week; dashed lines carry
    the recent rate on to go-live, which is a red rule."""
    data = _series_words(series.assign(date=pd.to_datetime(series["date"])))
    ahead = _series_words(forecast.assign(date=pd.to_datetime(forecast["date"])))
    x = alt.X(
        "date", type="temporal", title=None, axis=alt.Axis(format=AXIS_FORMAT[i18n.language()])
    )
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=x,
            y=alt.Y("count", type="quantitative", title=_("Decisions")),
            color=_series_color(),
            tooltip=[
                tip("date", "temporal", title=_("Week"), format=DATE_FORMAT[i18n.language()]),
                tip("label", title=_("Series")),
                tip("count", "quantitative", title=_("Decisions")),
            ],
        )
    )
    dashed = (
        alt.Chart(ahead)
        .mark_line(strokeDash=[6, 4])
        .encode(
            x=x,
            y=alt.Y("count", type="quantitative"),
            color=_series_color(),
            tooltip=[
                tip("date", "temporal", title=_("Forecast"), format=DATE_FORMAT[i18n.language()]),
                tip("label", title=_("Series")),
                tip("count", "quantitative", format=".0f", title=_("Decisions")),
            ],
        )
    )
    go = _rule(go_live, _("go-live {date}", date=i18n.format_date(go_live)), "#cb181d", [1, 0],
               top=4)  # fmt: skip
    now = _rule(as_of, _("as of {date}", date=i18n.format_date(as_of)), "#737373", [4, 3], top=22)
    return (lines + dashed + go + now).properties(height=320)


# Dates in tooltips and on axes as the reader writes them (d3 time formats).
DATE_FORMAT = {"nb": "%d.%m.%Y", "en": "%d %b %Y"}
AXIS_FORMAT = {"nb": "%d.%m.%y", "en": "%d %b %y"}


def _rule(day: dt.date, label: str, color: str, dash: list[int], top: int) -> alt.LayerChart:
    """A vertical rule at `day`, labelled to its left `top` pixels from the top."""
    at = alt.Chart(pd.DataFrame({"date": pd.to_datetime([day]), "label": [label]}))
    rule = at.mark_rule(color=color, strokeWidth=2, strokeDash=dash).encode(
        x=alt.X("date", type="temporal")
    )
    text = at.mark_text(align="right", dx=-4, dy=top, color=color, baseline="top").encode(
        x=alt.X("date", type="temporal"), y=alt.value(0), text=alt.Text("label", type="nominal")
    )
    return rule + text


REPORT_COLUMNS = {"criterion": 0, "status": 250, "value": 330, "target": 400, "forecast": 470,
                  "outlook": 700}  # fmt: skip
REPORT_WIDTH = 820


def criteria_table_chart(
    table: pd.DataFrame, headers: dict[str, str] | None = None
) -> alt.LayerChart:
    """The criteria table drawn as text, for the PNG report (`table` with the columns of
    REPORT_COLUMNS, and `unmet` where given); unmet criteria in red. `headers`: the column
    titles in the reader's language."""
    headers = {c: (headers or {}).get(c, c) for c in REPORT_COLUMNS}
    unmet = table["unmet"] if "unmet" in table else table["status"].isin(["not_met", "not met"])
    rows = table[list(REPORT_COLUMNS)].astype(str).assign(unmet=unmet.astype(bool))
    rows = rows.reset_index(drop=True)
    rows.index += 1
    data = pd.concat([pd.DataFrame([{**headers, "unmet": False}]), rows]).reset_index(names="row")
    base = alt.Chart(data).encode(y=alt.Y("row", type="ordinal", axis=None))
    red = alt.condition("datum.unmet", alt.value("#cb181d"), alt.value("#222"))
    layers = [
        base.mark_text(
            align="left", fontWeight=alt.ExprRef("datum.row == 0 ? 'bold' : 'normal'")
        ).encode(x=alt.value(offset), text=alt.Text(column, type="nominal"), color=red)
        for column, offset in REPORT_COLUMNS.items()
    ]
    return alt.layer(*layers).properties(width=REPORT_WIDTH, height=22 * len(data))


def report_chart(
    title: str,
    table: pd.DataFrame,
    burn_up: alt.LayerChart,
    headers: dict[str, str] | None = None,
    subtitle: str = "",
) -> alt.VConcatChart:
    table_chart = criteria_table_chart(table, headers)
    return alt.vconcat(table_chart, burn_up.properties(width=REPORT_WIDTH)).properties(
        title=alt.TitleParams(
            title, subtitle=subtitle or alt.Undefined, fontSize=16, anchor="start"
        )  # fmt: skip
    )


def to_png(chart: alt.TopLevelMixin, scale: float = 1.5) -> bytes:
    """A chart as PNG bytes (vl-convert, no browser needed)."""
    return vl_convert.vegalite_to_png(spec(chart), scale=scale)


def replan_timeline(replans: pd.DataFrame, waves: pd.DataFrame) -> alt.LayerChart:
    """Each wave's go-live moves: a bar from the old date to the new one per re-plan, and the
    current go-live date as a diamond."""
    names = dict(zip(waves["code"], waves["name"], strict=True))
    moves = replans.assign(
        wave_name=replans["wave"].map(names),
        old=pd.to_datetime(replans["old_go_live"]),
        new=pd.to_datetime(replans["new_go_live"]),
    )
    now = waves.assign(wave_name=waves["name"], date=pd.to_datetime(waves["go_live"]))
    order = list(waves["name"])
    y = alt.Y("wave_name", type="nominal", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    when = DATE_FORMAT[i18n.language()]
    moves = moves.assign(replanned_on=moves["replanned_at"].map(words.date_text))
    tooltip = [
        tip("wave_name", title=_("Wave")),
        tip("old", "temporal", title=_("From"), format=when),
        tip("new", "temporal", title=_("To"), format=when),
        tip("reason", title=_("Reason")),
        tip("replanned_by_name", title=_("By")),
        tip("replanned_on", title=_("When")),
    ]
    bars = (
        alt.Chart(moves)
        .mark_rule(strokeWidth=3, color="#fd8d3c")
        .encode(
            x=alt.X("old", type="temporal", title=_("Go-live date")),
            x2=alt.X2("new"),
            y=y,
            tooltip=tooltip,
        )
    )
    starts = (
        alt.Chart(moves)
        .mark_point(color="#fd8d3c", size=60)
        .encode(x=alt.X("old", type="temporal"), y=y, tooltip=tooltip)
    )
    current = (
        alt.Chart(now)
        .mark_point(shape="diamond", size=140, filled=True, color="#cb181d")
        .encode(
            x=alt.X("date", type="temporal"),
            y=y,
            tooltip=[
                tip("wave_name", title=_("Wave")),
                tip("date", "temporal", title=_("Go-live"), format=when),
            ],
        )
    )
    return (bars + starts + current).properties(height=50 * max(len(order), 1) + 30)
