"""Altair chart builders: a DataFrame in, a chart out. One module per screen; the shared
stage palette lives here so every chart colours a stage the same way.

Encodings are channel objects with explicit types, never shorthand strings ("a:Q"): Altair
parses and validates a shorthand against the whole schema, about a hundred times slower."""

from __future__ import annotations

import functools
import json
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from decisions.i18n import N_, _, language, number_symbols, percent_sign
from decisions.model import ALL_STAGES
from decisions.words import stage_word

# Texts ui.py shows for the programme pages (the readiness spinner, the figures' time),
# kept here so that they are translated in the programme's catalog.
READINESS_SPINNER = N_("Evaluating the go-live criteria…")
FIGURES_AS_OF = N_("Figures as of {time}.")
FIGURES_REFRESHED = N_(
    "Figures as of {time}, brought up to date about every {seconds} seconds; your own changes "
    "show at once."
)

# Altair's theme and data transformer are process-wide. Streamlit switches both while
# st.altair_chart converts a chart, so a chart converted in another thread at that moment (the
# Readiness PNG report) could come out without its data. The app therefore draws every chart
# from the spec made here (ui.chart), never through st.altair_chart, and these are set once.
alt.theme.enable("none")  # the default theme's fixed 300 px view; Streamlit sizes the charts
alt.data_transformers.disable_max_rows()  # a 10x programme has charts of thousands of rows


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its data inline: what the app draws and the PNG renders,
    its numbers and dates written as the reader writes them (2 400, 178,4 and "mars" in
    bokmål)."""
    drawn = chart.to_dict()
    decimal, thousands = number_symbols()
    drawn.setdefault("config", {})["locale"] = {
        "number": {"decimal": decimal, "thousands": thousands, "grouping": [3],
                   "currency": ["", ""], "percent": percent_sign()},
        "time": time_locale(language()),
    }  # fmt: skip
    return drawn


# d3's names of the reader's languages (the locales vl-convert carries, as d3-time-format has them)
TIME_LOCALES = {"nb": "nb-NO", "en": "en-GB"}


@functools.cache
def time_locale(lang: str) -> dict[str, Any]:
    """Month and day names and date formats (d3-time-format) of the language `lang`."""
    return vl_convert.get_time_format_locale(TIME_LOCALES.get(lang, "en-GB"))


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


def stage_color(field: str = "stage", title: str | None = None, **legend: Any) -> alt.Color:
    """A colour encoding of `field` with the stages in workflow order; the legend (`legend`:
    its options) shows the stages' words."""
    words = {s: stage_word(s) for s in ALL_STAGES}
    label = " : ".join(
        f"datum.label == {json.dumps(s)} ? {json.dumps(w)}" for s, w in words.items()
    )
    return alt.Color(
        field,
        type="nominal",
        title=_("Stage") if title is None else title,
        legend=alt.Legend(labelExpr=f"{label} : datum.label", **legend),
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


def _titled_fields(node: Any, tooltips: dict[str, str], others: dict[str, str]) -> None:
    """Every field of the spec's encodings with its title (tooltips apart: they hold the
    words a person reads, where an axis may encode the code)."""
    if isinstance(node, list):
        for item in node:
            _titled_fields(item, tooltips, others)
        return
    if not isinstance(node, dict):
        return
    for channel, value in (node.get("encoding") or {}).items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, dict) and "field" in one and isinstance(one.get("title"), str):
                (tooltips if channel == "tooltip" else others).setdefault(
                    one["field"], one["title"]
                )
    for child in ("layer", "vconcat", "hconcat", "concat"):
        _titled_fields(node.get(child), tooltips, others)


def data_tables(drawn: dict[str, Any]) -> list[pd.DataFrame]:
    """The data behind a chart's spec (charts.spec) as tables a person reads: the columns the
    chart names, under the names it gives them (the tooltip's first); a dataset with no named
    column (a rule's label) is left out."""
    tooltips: dict[str, str] = {}
    others: dict[str, str] = {}
    _titled_fields(drawn, tooltips, others)
    tables = []
    for records in (drawn.get("datasets") or {}).values():
        frame = pd.DataFrame(records)
        headers: dict[str, str] = {}
        for field, title in [*tooltips.items(), *others.items()]:
            if field in frame and field not in headers and title not in headers.values():
                headers[field] = title
        if headers:
            tables.append(frame[list(headers)].rename(columns=headers))
    return tables
