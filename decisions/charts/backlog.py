"""Charts of the backlog page: cumulative flow, aging and time per stage, bottlenecks, and
expert workload against allocation."""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from decisions.charts import stage_color, tip, with_stage_words
from decisions.i18n import _
from decisions.model import STAGES
from decisions.words import (
    BACKLOG_COLUMN_WORDS,
    FLAG_WORDS,
    WAITING_WORDS,
    flag_word,
    waiting_word,
    word,
)

# The whole chart, its labels and legend too, within the width it is given (at 390 px the
# default lets the labels push the bars past the right edge).
FIT = alt.AutoSizeParams(type="fit-x", contains="padding")
NUMBERS_SHOWN = ("allocation_pct", "open_items", "per_fte", "recent_activity")
FLAG_COLORS = ["#cb181d", "#969696", "#4292c6"]


def cumulative_flow_chart(flow: pd.DataFrame) -> alt.Chart:
    """Stacked areas of decisions per stage over time (`flow`: date, stage, count)."""
    order = {stage: rank for rank, stage in enumerate(STAGES)}
    data = with_stage_words(
        flow.assign(date=pd.to_datetime(flow["date"]), order=flow["stage"].map(order))
    )
    return (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("date", type="temporal", title=None),
            y=alt.Y("count", type="quantitative", stack=True, title=_("Decisions")),
            color=stage_color(),
            order=alt.Order("order", type="quantitative", sort="descending"),
            tooltip=[
                tip("date", "temporal", title=_("Week"), format="%d.%m.%Y"),
                tip("stage_word", title=_("Stage")),
                tip("count", "quantitative", title=_("Decisions")),
            ],
        )
        .properties(height=320)
    )


def duration_chart(summary: pd.DataFrame, by: str, title: str) -> alt.LayerChart:
    """Median (bar) and 85th percentile (tick) of days per `by` (stage or forum level, in
    words)."""
    sort = list(summary[by].astype(str))
    data = summary.assign(**{by: summary[by].astype(str)})
    y = alt.Y(by, type="nominal", sort=sort, title=None, axis=alt.Axis(labelLimit=220))
    base = alt.Chart(data).encode(y=y)
    tooltip = [
        tip(by, title=word(BACKLOG_COLUMN_WORDS, by)),
        *(
            tip(c, "quantitative", title=word(BACKLOG_COLUMN_WORDS, c))
            for c in ("count", "median_days", "p85_days")
        ),
    ]
    bars = base.mark_bar(color="#6baed6").encode(
        x=alt.X("median_days", type="quantitative", title=title), tooltip=tooltip
    )
    ticks = base.mark_tick(color="#cb181d", thickness=3, size=18).encode(
        x=alt.X("p85_days", type="quantitative"), tooltip=tooltip
    )
    return (bars + ticks).properties(height=max(160, 28 * len(data) + 40))


def wrapped(name: str, width: int = 20) -> str:
    """A name broken into lines of about `width` characters, "|" between them (the axis
    splits the label there: a long forum name is shown whole, not cut)."""
    return "|".join(textwrap.wrap(str(name), width, break_long_words=False)) or str(name)


def bottleneck_chart(table: pd.DataFrame, by: str, top: int = 15) -> alt.Chart:
    """The `top` worst domains or forums: open decisions waiting at each kind of step."""
    data = table.head(top).melt(
        id_vars=[by],
        value_vars=list(WAITING_WORDS),
        var_name="waiting",
        value_name="decisions",
    )
    data["waiting"] = data["waiting"].map(waiting_word)
    data["label"] = data[by].map(wrapped)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "label",
                type="nominal",
                sort=[wrapped(n) for n in table.head(top)[by]],
                title=None,
                axis=alt.Axis(labelExpr="split(datum.label, '|')", labelLimit=0),
            ),
            x=alt.X("decisions", type="quantitative", title=_("Decisions")),
            color=alt.Color(
                "waiting",
                type="nominal",
                title=None,
                sort=[waiting_word(w) for w in WAITING_WORDS],
                legend=alt.Legend(orient="top", columns=1, labelLimit=0),
            ),
            yOffset=alt.YOffset(
                "waiting", type="nominal", sort=[waiting_word(w) for w in WAITING_WORDS]
            ),
            tooltip=[
                tip(by, title=word(BACKLOG_COLUMN_WORDS, by)),
                tip("waiting", title=_("Waiting")),
                tip("decisions", "quantitative", title=_("Decisions")),
            ],
        )
        .properties(height=60 * min(len(table), top) + 20, autosize=FIT)
    )


def workload_chart(workload: pd.DataFrame) -> alt.Chart:
    """Each expert's open items against their allocation, overloaded and idle picked out."""
    data = workload.assign(flag_word=workload["flag"].map(flag_word))
    words = [flag_word(f) for f in FLAG_WORDS]
    return (
        alt.Chart(data)
        .mark_circle(size=60, opacity=0.7)
        .encode(
            x=alt.X(
                "allocation_pct",
                type="quantitative",
                title=_("Allocation (%)"),
                scale=alt.Scale(domain=[0, 100], padding=8),  # whole points at 100 %
            ),
            y=alt.Y("open_items", type="quantitative", title=_("Open items")),
            color=alt.Color(
                "flag_word",
                type="nominal",
                scale=alt.Scale(domain=words, range=FLAG_COLORS),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                tip("name", title=_("Name")),
                tip("email", title=_("Email")),
                *(
                    tip(c, "quantitative", title=word(BACKLOG_COLUMN_WORDS, c))
                    for c in NUMBERS_SHOWN
                ),
                tip("flag_word", title=_("Flag")),
            ],
        )
        .properties(height=320)
    )
