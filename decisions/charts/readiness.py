"""Charts of the readiness page: the burn-up with the go-live rule and the forecast, the
criteria's sparklines, and the report for the steering committee as one PNG."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import vl_convert

from decisions.charts import spec, tip

SERIES = ["scope", "approved or further", "ready"]
SERIES_COLORS = ["#636363", "#fd8d3c", "#238b45"]
STATUS_COLORS = {"met": "#238b45", "not_met": "#cb181d", "waived": "#807dba", "no_data": "#969696"}


def _series_color() -> alt.Color:
    return alt.Color(
        "series",
        type="nominal",
        title=None,
        scale=alt.Scale(domain=SERIES, range=SERIES_COLORS),
        legend=alt.Legend(orient="top"),
    )


def burn_up_chart(
    series: pd.DataFrame, forecast: pd.DataFrame, go_live: dt.date, as_of: dt.date
) -> alt.LayerChart:
    """Decisions in scope, at approved or further, and ready, week by week; dashed lines carry
    the recent rate on to go-live, which is a red rule."""
    data = series.assign(date=pd.to_datetime(series["date"]))
    ahead = forecast.assign(date=pd.to_datetime(forecast["date"]))
    x = alt.X("date", type="temporal", title=None)
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=x,
            y=alt.Y("count", type="quantitative", title="Decisions"),
            color=_series_color(),
            tooltip=[tip("date", "temporal"), tip("series"), tip("count", "quantitative")],
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
                tip("date", "temporal", title="forecast"),
                tip("series"),
                tip("count", "quantitative", format=".0f"),
            ],
        )
    )
    go = _rule(go_live, f"go-live {go_live}", "#cb181d", [1, 0], top=4)
    now = _rule(as_of, f"as of {as_of}", "#737373", [4, 3], top=22)
    return (lines + dashed + go + now).properties(height=320)


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


def sparkline(trend: pd.DataFrame) -> alt.Chart:
    """A small line of a criterion's weekly values (`trend`: date, value)."""
    return (
        alt.Chart(trend.assign(date=pd.to_datetime(trend["date"])))
        .mark_line(point=True)
        .encode(
            x=alt.X("date", type="temporal", axis=None),
            y=alt.Y("value", type="quantitative", axis=None),
            tooltip=[tip("date", "temporal"), tip("value", "quantitative")],
        )
        .properties(width=120, height=30)
    )


REPORT_COLUMNS = {"criterion": 0, "status": 290, "value": 370, "target": 450, "forecast": 530,
                  "outlook": 630}  # fmt: skip


def criteria_table_chart(table: pd.DataFrame) -> alt.LayerChart:
    """The criteria table drawn as text, for the PNG report (`table` with the columns of
    REPORT_COLUMNS); unmet criteria in red."""
    rows = table[list(REPORT_COLUMNS)].astype(str).reset_index(drop=True)
    rows.index += 1
    data = pd.concat([pd.DataFrame([dict(zip(REPORT_COLUMNS, REPORT_COLUMNS, strict=True))]),
                      rows]).reset_index(names="row")  # fmt: skip
    base = alt.Chart(data).encode(y=alt.Y("row", type="ordinal", axis=None))
    unmet = "datum.status == 'not_met' || datum.status == 'not met'"
    red = alt.condition(unmet, alt.value("#cb181d"), alt.value("#222"))
    layers = [
        base.mark_text(
            align="left", fontWeight=alt.ExprRef("datum.row == 0 ? 'bold' : 'normal'")
        ).encode(x=alt.value(offset), text=alt.Text(column, type="nominal"), color=red)
        for column, offset in REPORT_COLUMNS.items()
    ]
    return alt.layer(*layers).properties(width=720, height=22 * len(data))


def report_chart(title: str, table: pd.DataFrame, burn_up: alt.LayerChart) -> alt.VConcatChart:
    return alt.vconcat(criteria_table_chart(table), burn_up.properties(width=720)).properties(
        title=alt.TitleParams(title, fontSize=16, anchor="start")
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
    tooltip = [
        tip("wave_name"),
        tip("old", "temporal", title="from"),
        tip("new", "temporal", title="to"),
        tip("reason"),
        tip("replanned_by_name", title="by"),
        tip("replanned_at", title="when"),
    ]
    bars = (
        alt.Chart(moves)
        .mark_rule(strokeWidth=3, color="#fd8d3c")
        .encode(
            x=alt.X("old", type="temporal", title="Go-live date"),
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
            tooltip=[tip("wave_name"), tip("go_live", title="go-live")],
        )
    )
    return (bars + starts + current).properties(height=50 * max(len(order), 1) + 30)
