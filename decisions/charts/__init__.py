"""Altair chart builders: a DataFrame in, a chart out. One module per screen; the shared
stage palette lives here so every chart colours a stage the same way.

Encodings are channel objects with explicit types, never shorthand strings ("a:Q"): Altair
parses and validates a shorthand against the whole schema, about a hundred times slower."""

from __future__ import annotations

import json
from typing import Any

import altair as alt

from decisions.i18n import N_, _, number_symbols, percent_sign
from decisions.model import ALL_STAGES
from decisions.words import stage_word

# Texts ui.py shows for the programme pages (the readiness spinner, the figures' time),
# kept here so that they are translated in the programme's catalog.
READINESS_SPINNER = N_("Evaluating the go-live criteria…")
FIGURES_AS_OF = N_("Figures as of {time}.")
FIGURES_REFRESHED = N_(
    "Figures as of {time}, brought up to date every few seconds; your own changes show at once."
)

# Altair's theme and data transformer are process-wide. Streamlit switches both while
# st.altair_chart converts a chart, so a chart converted in another thread at that moment (the
# Readiness PNG report) could come out without its data. The app therefore draws every chart
# from the spec made here (ui.chart), never through st.altair_chart, and these are set once.
alt.theme.enable("none")  # the default theme's fixed 300 px view; Streamlit sizes the charts
alt.data_transformers.disable_max_rows()  # a 10x programme has charts of thousands of rows


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its data inline: what the app draws and the PNG renders,
    its numbers written as the reader writes them (2 400 and 178,4 in bokmål)."""
    drawn = chart.to_dict()
    decimal, thousands = number_symbols()
    drawn.setdefault("config", {})["locale"] = {
        "number": {"decimal": decimal, "thousands": thousands, "grouping": [3],
                   "currency": ["", ""], "percent": percent_sign()}
    }  # fmt: skip
    return drawn


# From early (cool) to done (green); withdrawn grey.
STAGE_COLORS: dict[str, str] = {
    "proposed": "#9ecae1",
    "decided": "#6baed6",
    "in_build": "#4292c6",
    "built": "#2171b5",
    "demonstrated": "#fdae6b",
    "approved": "#fd8d3c",
    "in_test": "#e6550d",
    "tested": "#74c476",
    "ready": "#238b45",
    "withdrawn": "#bdbdbd",
}


def stage_color(field: str = "stage", title: str | None = None) -> alt.Color:
    """A colour encoding of `field` with the stages in workflow order; the legend shows the
    stages' words."""
    words = {s: stage_word(s) for s in ALL_STAGES}
    label = " : ".join(
        f"datum.label == {json.dumps(s)} ? {json.dumps(w)}" for s, w in words.items()
    )
    return alt.Color(
        field,
        type="nominal",
        title=_("Stage") if title is None else title,
        legend=alt.Legend(labelExpr=f"{label} : datum.label"),
        scale=alt.Scale(domain=list(ALL_STAGES), range=[STAGE_COLORS[s] for s in ALL_STAGES]),
        sort=list(ALL_STAGES),
    )


def tip(field: str, type: str = "nominal", **options) -> alt.Tooltip:
    """A tooltip channel of `field` (channel objects: see the module's docstring)."""
    return alt.Tooltip(field, type=type, **options)


def with_stage_words(frame, field: str = "stage"):
    """`frame` with `stage_word`: the stage as the reader reads it (axes, tooltips)."""
    return frame.assign(stage_word=frame[field].map(stage_word))


def stage_words() -> list[str]:
    """The stages' words in workflow order (the sort of an axis of stage words)."""
    return [stage_word(s) for s in ALL_STAGES]
