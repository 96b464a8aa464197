"""The programme screens as a person reads them: the Readiness table (status in colour, values
and targets with units, a waiver shown as a waiver with who granted it and until when, the
date the trend reaches the target), re-planning with a preview and a form that shows the new
date, and Overview, Readiness, Plan, Backlog and Suspect evidence in bokmål under strict
translations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_pages_programme import app_db, by_key, open_page, texts  # noqa: F401  (fixture)

from decisions import i18n, readiness, words
from decisions.store import analytics


def criteria_rows(at) -> dict[str, dict]:
    table = next(d.value for d in at.dataframe if "status_shown" in d.value.columns)
    return {row["code"]: row for row in table.to_dict("records")}


# Readiness --------------------------------------------------------------------------------------


def test_values_and_targets_carry_units_and_status_a_colour(app_db):  # noqa: F811
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    rows = criteria_rows(at)
    assert (rows["C4"]["shown_value"], rows["C4"]["target"]) == ("33.3%", "≥ 98%")
    assert (rows["C3"]["shown_value"], rows["C3"]["target"]) == ("1", "≤ 0")
    assert list(rows["C3"]["status_shown"]) == ["not_met"]  # a red label "not met"
    assert list(rows["R7"]["status_shown"]) == ["no_data"] and rows["R7"]["shown_value"] == ""
    status = next(e for e in at.dataframe if "status_shown" in e.value.columns)
    config = json.loads(status.proto.columns)["status_shown"]
    assert config["type_config"]["type"] == "multiselect"  # coloured labels
    assert "red" in str(config["type_config"]["options"])


def test_a_waived_criterion_reads_as_waived_with_who_and_until_when(app_db):  # noqa: F811
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("C4N").run()
    at.text_input(key="criterion_W1_C4N_reason").input("Acceptance cycle in October")
    at.date_input(key="criterion_W1_C4N_until").set_value(dt.date(2022, 10, 31))
    at.button(key="criterion_W1_C4N_save").click().run()
    assert not at.exception, at.exception
    row = criteria_rows(at)["C4N"]
    assert list(row["status_shown"]) == list(row["outlook"]) == ["waived"]  # not "off track"
    assert row["waiver"] == "Acceptance cycle in October (by Mona, until 31 Oct 2022)"


def _forecast_text(trend: list[float | None], go_live: dt.date) -> str:
    start = dt.date(2022, 7, 1)
    points = [(start + dt.timedelta(weeks=i), v) for i, v in enumerate(trend)]
    reach = readiness.forecast(points, ">=", 100, go_live)
    return words.forecast_text(reach.code, reach.date, go_live)


@pytest.mark.parametrize(
    ("trend", "expected"),
    [
        ([50, 60, 70], "05 Aug 2022 (62 days before go-live)"),  # 10 a week: three weeks on
        ([30, 30.1, 30.2], "not within 26 weeks after go-live"),  # a date years out is none
        ([50, 50, 50], "never at the recent rate"),  # flat
        ([60, 55, 50], "never at the recent rate"),  # falling
        ([None, None, 50], "too few values for a trend"),
        ([None, None, None], "no data"),
        ([90, 95, 100], "met now"),
    ],
)
def test_the_forecast_says_when_the_trend_reaches_the_target(trend, expected):
    assert _forecast_text(trend, dt.date(2022, 10, 6)) == expected


# Plan -------------------------------------------------------------------------------------------


def test_a_date_chosen_previews_the_outlook_before_saving(app_db):  # noqa: F811
    conn, _ = app_db
    at = open_page("mona@hemit.no", "pages/plan.py")
    assert "Choose another date to see what it does to the outlook." in texts(at)
    by_key(at, "replan-0_date_W1").set_value(dt.date(2023, 5, 13)).run()
    assert not at.exception, at.exception
    preview = next(d.value for d in at.dataframe if "then" in d.value.columns)
    assert len(preview) == len(readiness.default_criteria())
    assert "Go-live on 13 May 2023:" in texts(at)
    assert analytics.wave_replans(conn).empty  # a preview saves nothing


def test_after_a_replan_the_form_shows_the_new_date_and_a_second_submit_changes_nothing(app_db):  # noqa: F811
    conn, _ = app_db
    at = open_page("mona@hemit.no", "pages/plan.py")
    by_key(at, "replan-0_date_W1").set_value(dt.date(2023, 5, 13)).run()
    by_key(at, "replan-0_reason").input("Build not ready")
    next(b for b in at.button if b.label == "Re-plan").click()
    at.run()
    assert not at.exception, at.exception
    assert by_key(at, "replan-1_date_W1").value == dt.date(2023, 5, 13)
    assert "13 May 2023" in at.selectbox(key="replan_wave").format_func("W1")
    assert by_key(at, "replan-1_reason").value == ""
    next(b for b in at.button if b.label == "Re-plan").click()  # again, as a double click
    at.run()
    assert len(analytics.wave_replans(conn)) == 1


# Bokmål -----------------------------------------------------------------------------------------

TITLES = {
    "pages/overview.py": "Oversikt",
    "pages/readiness.py": "Klarhet for produksjonssetting",
    "pages/plan.py": "Plan",
    "pages/backlog.py": "Etterslep",
    "pages/suspect.py": "Usikker dokumentasjon",
}


@pytest.mark.parametrize("page", list(TITLES))
def test_the_programme_pages_in_bokmal(app_db, monkeypatch, page):  # noqa: F811
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    try:
        at = open_page("mona@hemit.no", page, wave="W1")
        assert at.title[0].value == TITLES[page]
        if page == "pages/readiness.py":
            assert "dager til produksjonssetting" in texts(at)
            by_key(at, "readiness_records").set_value("C5").run()
            assert not at.exception, at.exception
            rows = criteria_rows(at)
            assert rows["C4"]["shown_value"] == "33,3\u00a0%"
        if page == "pages/plan.py":
            by_key(at, "replan-0_date_W1").set_value(dt.date(2023, 5, 13)).run()
            assert not at.exception, at.exception
            assert "Produksjonssetting 13.05.2023:" in texts(at)
        if page == "pages/backlog.py":
            for tab in ("Kumulativ flyt", "Alder", "Tid per status", "Flaskehalser",
                        "Over tidsfristen", "Arbeidsmengde"):  # fmt: skip
                at.session_state["backlog_tab"] = tab
                at.run()
                assert not at.exception, (tab, at.exception)
    finally:
        i18n.use("en")
