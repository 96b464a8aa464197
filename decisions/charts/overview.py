"""Charts of the overview: the pipeline by stage and each wave's decisions by stage."""

from __future__ import annotations

import altair as alt
import pandas as pd

from decisions.charts import stage_color, stage_words, tip, with_stage_words
from decisions.charts.backlog import FIT, wrapped
from decisions.i18n import _
from decisions.model import ALL_STAGES


def pipeline_chart(counts: pd.DataFrame) -> alt.Chart:
    """Bars of decisions per stage, in workflow order; `counts` has stage and decisions."""
    full = pd.DataFrame({"stage": list(ALL_STAGES)}).merge(counts, on="stage", how="left")
    full["decisions"] = full["decisions"].fillna(0).astype(int)
    full = with_stage_words(full)
    bars = (
        alt.Chart(full)
        .mark_bar()
        .encode(
            x=alt.X(
                "stage_word",
                type="nominal",
                sort=stage_words(),
                title=None,
                axis=alt.Axis(labelAngle=-40, labelOverlap=False),
            ),
            y=alt.Y("decisions", type="quantitative", title=_("Decisions")),
            color=stage_color().legend(None),
            tooltip=[
                tip("stage_word", title=_("Stage")),
                tip("decisions", "quantitative", title=_("Decisions")),
            ],
        )
    )
    labels = bars.mark_text(dy=-6).encode(
        text=alt.Text("decisions", type="quantitative"), color=alt.value("#333")
    )
    return (bars + labels).properties(height=260)


def wave_stage_chart(counts: pd.DataFrame) -> alt.Chart:
    """One stacked bar per wave of the decisions in its scope by stage; `counts` has wave,
    name, stage and decisions, in go-live order."""
    waves = list(dict.fromkeys(counts["name"]))
    order = {stage: rank for rank, stage in enumerate(ALL_STAGES)}
    data = with_stage_words(
        counts.assign(order=counts["stage"].map(order), label=counts["name"].map(wrapped))
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "label",
                type="nominal",
                sort=[wrapped(w) for w in waves],
                title=None,
                axis=alt.Axis(labelExpr="split(datum.label, '|')", labelLimit=0),
            ),
            x=alt.X(
                "decisions",
                type="quantitative",
                stack="normalize",
                title=_("Share of decisions in scope"),
                axis=alt.Axis(format="%"),
            ),
            color=stage_color(orient="bottom", columns=2, labelLimit=170),
            order=alt.Order("order", type="quantitative"),
            tooltip=[
                tip("name", title=_("Wave")),
                tip("stage_word", title=_("Stage")),
                tip("decisions", "quantitative", title=_("Decisions")),
            ],
        )
        .properties(height=max(60, 40 * len(waves)), autosize=FIT)
    )
