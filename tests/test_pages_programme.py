"""The programme pages with AppTest on a programme with known numbers: Readiness (criteria,
as-of date, records behind a number, criterion and measurement forms, report), Backlog and
Plan (re-plan history and re-planning)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import as_read
from streamlit.testing.v1 import AppTest
from test_readiness import W1_ON_15, build_known_programme

from decisions import readiness, store
from decisions.store import analytics

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 90


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    keys = build_known_programme(programme)
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme, keys


def open_page(email: str, page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.sidebar.selectbox[0].set_value(email).run()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "subheader", "success",
                                  "error", "warning", "info") for e in getattr(at, kind)]  # fmt: skip
    return as_read("\n".join(str(p) for p in parts + [x.label for x in at.expander]))


def criteria_shown(at: AppTest) -> dict[str, object]:
    table = next(d.value for d in at.dataframe if "criterion" in d.value.columns)
    codes = [c.code for c in readiness.default_criteria()]
    names = {c.name: c.code for c in readiness.default_criteria()}
    shown = {names[r["criterion"]]: r["value"] for r in table.to_dict("records")}
    assert list(shown) == codes
    return {c: (None if v != v else v) for c, v in shown.items()}  # NaN shows as empty


def by_key(at: AppTest, key: str):
    return next(e for e in (*at.selectbox, *at.date_input, *at.text_input, *at.number_input,
                            *at.text_area) if e.key == key)  # fmt: skip


# Readiness --------------------------------------------------------------------------------------


def test_readiness_shows_the_evaluation_as_the_cli_gives_it(app_db):
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    assert criteria_shown(at) == W1_ON_15
    assert "NO GO" in texts(at) and "58 days to go-live" in texts(at)
    assert {b.label for b in at.get("download_button")} == {
        "Readiness report (PNG)", "Criteria table (CSV)", "Criteria table (xlsx)"}  # fmt: skip


def test_changing_the_as_of_date_shows_the_past(app_db):
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_as_of").set_value(dt.date(2022, 9, 5)).run()
    assert not at.exception
    shown = criteria_shown(at)
    assert (shown["C3"], shown["C5B"]) == (0, 1)  # not yet overdue; the defect still open
    assert "as of 05 Sep 2022" in texts(at)


def test_the_records_behind_a_number(app_db):
    _, keys = app_db
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("C3").run()
    assert "Behind C3: Proposals overdue" in texts(at)
    records = at.dataframe[-1].value
    assert list(records["key"]) == [keys["k3"]] and list(records["Stage"]) == ["Proposed"]
    by_key(at, "readiness_records").set_value("C5").run()
    assert "Wrong dose shown" in list(at.dataframe[-2].value["title"])
    assert "disagree on severity" in texts(at)


def test_a_viewer_gets_no_forms_and_a_manager_does(app_db):
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("R7").run()
    assert not at.get("form")
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("R7").run()
    assert "Change R7: threshold, owner, waiver" in texts(at)
    assert "Report a value for R7" in texts(at)


def test_a_manager_waives_a_criterion_and_sees_it_waived(app_db):
    conn, _ = app_db
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("C4N").run()
    at.text_input(key="criterion_W1_C4N_reason").input("Acceptance cycle in October")
    at.date_input(key="criterion_W1_C4N_until").set_value(dt.date(2022, 10, 31))
    at.button(key="criterion_W1_C4N_save").click().run()
    assert not at.exception, at.exception
    assert "Criterion C4N saved." in texts(at)
    assert analytics.get_criterion(conn, "W1", "C4N")["waiver_until"] == "2022-10-31"
    table = next(d.value for d in at.dataframe if "criterion" in d.value.columns)
    row = table[table["criterion"] == "Test cases never run"].iloc[0]
    assert (row["status"], row["waiver"]) == (
        "waived",
        "Acceptance cycle in October (by Mona, until 31 Oct 2022)",
    )
    assert list(row["outlook"]) == ["waived"]  # not "off track"


def test_a_measurement_is_recorded_and_a_refused_one_says_why(app_db):
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("R7").run()
    at.button(key="measure_W1_R7_save").click().run()
    assert "value must be a number" in texts(at)
    at.number_input(key="measure_W1_R7_value").set_value(91.5)
    at.button(key="measure_W1_R7_save").click().run()
    assert "Measurement of R7 recorded." in texts(at)
    assert criteria_shown(at)["R7"] == 91.5


def test_the_png_report_renders(app_db):
    conn, _ = app_db
    from decisions.charts import readiness as charts

    programme, results = readiness.assess(conn, dt.date(2022, 9, 15), "W1", weeks=4)
    series = readiness.burn_up(programme, results[0], 4)
    burn = charts.burn_up_chart(series, readiness.burn_up_forecast(series, results[0].go_live),
                                results[0].go_live, results[0].as_of)  # fmt: skip
    table = pd_table(results[0])
    png = charts.to_png(charts.report_chart("W1", table, burn))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def pd_table(wave):
    import pandas as pd

    return pd.DataFrame([{"criterion": c.criterion.name, "status": c.status,
                          "value": "" if c.value is None else f"{c.value:g}",
                          "target": f"{c.criterion.comparator} {c.criterion.threshold:g}",
                          "forecast": str(c.forecast or ""), "outlook": c.outlook}
                         for c in wave.criteria])  # fmt: skip


# Backlog ----------------------------------------------------------------------------------------


def test_backlog_shows_its_figures(app_db):
    at = open_page("vera@hemit.no", "pages/backlog.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Proposals past needed-by"] == "1"
    assert [t.label for t in at.tabs] == ["Cumulative flow", "Aging", "Time per stage",
                                          "Bottlenecks", "Past needed-by", "Workload"]  # fmt: skip
    at.session_state["backlog_tab"] = "Bottlenecks"  # only the chosen tab runs
    at.run()
    at.segmented_control(key="backlog_by").set_value("forum").run()
    assert not at.exception


# Plan -------------------------------------------------------------------------------------------


def test_plan_lists_waves_and_a_manager_replans_with_a_reason(app_db):
    conn, _ = app_db
    at = open_page("mona@hemit.no", "pages/plan.py")
    assert "No wave has been re-planned." in texts(at)
    by_key(at, "replan-0_date_W1").set_value(dt.date(2023, 5, 13))
    by_key(at, "replan-0_reason").input("Build not ready; postponed by the steering group")
    next(b for b in at.button if b.label == "Re-plan").click()
    at.run()
    assert not at.exception, at.exception
    assert "re-planned to 13 May 2023" in texts(at)
    assert analytics.get_wave(conn, "W1")["go_live"] == "2023-05-13"
    history = next(d.value for d in at.dataframe if "old_go_live" in d.value.columns)
    assert list(history["reason"]) == ["Build not ready; postponed by the steering group"]


def test_a_replan_without_reason_is_refused_and_viewers_cannot_replan(app_db):
    at = open_page("mona@hemit.no", "pages/plan.py")
    by_key(at, "replan-0_date_W1").set_value(dt.date(2023, 5, 13)).run()
    next(b for b in at.button if b.label == "Re-plan").click()
    at.run()
    assert "reason is required" in texts(at)
    at = open_page("vera@hemit.no", "pages/plan.py")
    assert not [b for b in at.button if b.label == "Re-plan"]
