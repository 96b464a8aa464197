"""The go/no-go meeting's decision per wave: one use case, one transaction with its event,
the criteria frozen as they stood on the meeting's date, covered by `check`, shown in
`readiness --json`."""

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import as_read, snapshot
from streamlit.testing.v1 import AppTest

from decisions import cli, planning, store
from decisions.model import NotFound, WorkflowError
from decisions.store import analytics

MEETING = {
    "outcome": "go_with_conditions",
    "meeting_date": "2022-09-14",
    "forum": "FBG",
    "minutes": "Styringsgruppen 14.09: go if the lab orders are approved by Friday.",
    "conditions": "Lab orders approved by 16.09",
}


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme


def path_of(conn) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def test_a_go_with_conditions_is_recorded_with_its_event_and_frozen_criteria(programme, actor):
    record_id = planning.record_go_no_go(programme, actor("mona@hemit.no"), "W1", **MEETING)
    [record] = analytics.go_no_go(programme, "W1")
    assert record["id"] == record_id
    assert (record["outcome"], record["meeting_date"], record["forum"], record["conditions"]) == (
        "go_with_conditions", "2022-09-14", "FBG", "Lab orders approved by 16.09")  # fmt: skip
    assert record["recorded_by"] == "mona@hemit.no"
    frozen = record["criteria"]
    assert frozen["go"] is False  # nothing is ready in the small programme
    assert {c["code"] for c in frozen["criteria"]} >= {"C1"}
    assert all({"status", "value", "threshold"} <= set(c) for c in frozen["criteria"])
    [logged] = store.rows(programme, "SELECT * FROM events WHERE entity = 'go_no_go'")
    assert (logged["entity_key"], logged["action"], logged["to_value"], logged["actor"]) == (
        str(record_id), "recorded", "go_with_conditions", "mona@hemit.no")  # fmt: skip
    assert store.verify_event_log(programme) == []


def test_a_criterion_changed_later_leaves_the_frozen_criteria_as_they_were(programme, actor):
    mona = actor("mona@hemit.no")
    planning.record_go_no_go(programme, mona, "W1", **MEETING)
    before = analytics.go_no_go(programme, "W1")[0]["criteria"]
    planning.save_criterion(programme, mona, "W1", "C1", {"threshold": 1})
    assert analytics.go_no_go(programme, "W1")[0]["criteria"] == before
    assert next(c for c in before["criteria"] if c["code"] == "C1")["threshold"] != 1


def test_a_later_meeting_is_the_latest_decision(programme, actor):
    mona = actor("mona@hemit.no")
    planning.record_go_no_go(programme, mona, "W1", **{**MEETING, "outcome": "no_go"})
    planning.record_go_no_go(programme, mona, "W1", **{**MEETING, "outcome": "go",
                                                       "meeting_date": "2022-09-15"})  # fmt: skip
    assert analytics.latest_go_no_go(programme)["W1"]["outcome"] == "go"
    assert len(analytics.go_no_go(programme, "W1")) == 2
    assert analytics.go_no_go(programme, "W1")[0]["conditions"] == ""


@pytest.mark.parametrize(
    "who, changes, error",
    [
        ("hanne@stolav.no", {}, "needs the role manager"),
        ("mona@hemit.no", {"outcome": "maybe"}, "outcome must be one of"),
        ("mona@hemit.no", {"minutes": "  "}, "minutes is required"),
        ("mona@hemit.no", {"conditions": ""}, "conditions is required"),
        ("mona@hemit.no", {"meeting_date": ""}, "Give the meeting's date"),
        ("mona@hemit.no", {"meeting_date": "2022-09-16"}, "is in the future"),
    ],
)
def test_refusals_write_nothing(programme, actor, who, changes, error):
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=error):
        planning.record_go_no_go(programme, actor(who), "W1", **{**MEETING, **changes})
    assert snapshot(programme) == before


@pytest.mark.parametrize("wave, forum", [("W9", "FBG"), ("W1", "NOPE")])
def test_an_unknown_wave_or_forum_is_refused(programme, actor, wave, forum):
    before = snapshot(programme)
    with pytest.raises(NotFound):
        planning.record_go_no_go(programme, actor("mona@hemit.no"), wave,
                                 **{**MEETING, "forum": forum})  # fmt: skip
    assert snapshot(programme) == before


def test_check_finds_a_go_no_go_changed_directly(programme, actor, capsys):
    record_id = planning.record_go_no_go(programme, actor("mona@hemit.no"), "W1", **MEETING)
    assert cli.main(["check", "--db", path_of(programme)]) == 0
    capsys.readouterr()
    tamper = sqlite3.connect(path_of(programme), isolation_level=None)
    tamper.execute("UPDATE go_no_go SET outcome = 'go' WHERE id = ?", (record_id,))
    assert cli.main(["check", "--db", path_of(programme)]) == 1
    assert f"records: go_no_go id {record_id} differs" in capsys.readouterr().err


def test_readiness_json_carries_the_latest_go_no_go(programme, actor, capsys):
    planning.record_go_no_go(programme, actor("mona@hemit.no"), "W1", **MEETING)
    assert cli.main(["readiness", "--db", path_of(programme), "--json"]) == 0
    [wave] = json.loads(capsys.readouterr().out)
    decision = wave["go_no_go"]
    assert (decision["outcome"], decision["meeting_date"], decision["forum"]) == (
        "go_with_conditions", "2022-09-14", "FBG")  # fmt: skip
    assert decision["minutes"] == MEETING["minutes"]


# The pages ------------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def open_page(email: str, page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.selectbox[0].set_value(email).run()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def widget(at: AppTest, name: str):
    return next(e for e in (*at.radio, *at.selectbox, *at.date_input, *at.text_area)
                if e.key and e.key.endswith(name))  # fmt: skip


def test_a_manager_records_the_decision_on_readiness_and_plan_shows_it(app_db):
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    assert "No go/no-go decision recorded" in " ".join(c.value for c in at.caption)
    widget(at, "_outcome").set_value("go_with_conditions")
    widget(at, "_date").set_value(dt.date(2022, 9, 14))
    widget(at, "_forum").set_value("FBG")
    widget(at, "_cond").set_value("Lab orders approved by 16.09")
    widget(at, "_minutes").set_value("Go if the lab orders are approved.")
    next(b for b in at.button if b.label == "Record the decision").click().run()
    assert not at.exception, at.exception
    shown = as_read(" ".join(str(i.value) for i in at.info))
    assert "Go/no-go meeting 14 Sep 2022, Joint decision group: Go with conditions" in shown
    assert "Go with conditions" in shown and "Lab orders approved by 16.09" in shown
    [meeting] = analytics.go_no_go(app_db, "W1")
    assert meeting["forum"] == "FBG" and meeting["minutes"] == "Go if the lab orders are approved."
    plan = open_page("mona@hemit.no", "pages/plan.py")
    waves = next(d.value for d in plan.dataframe if "go_no_go" in d.value.columns)
    assert waves.set_index("code").loc["W1", "go_no_go"].startswith("Go with conditions")


def test_only_who_may_record_sees_the_form(app_db):
    at = open_page("vera@hemit.no", "pages/readiness.py", wave="W1")
    assert "Record the go/no-go decision" not in [e.label for e in at.expander]
    assert "Record the decision" not in [b.label for b in at.button]


def test_the_png_report_can_carry_the_go_no_go_decision(app_db, actor):
    from test_pages_programme import pd_table

    from decisions import readiness
    from decisions.charts import readiness as charts

    planning.record_go_no_go(app_db, actor("mona@hemit.no"), "W1", **MEETING)
    programme, (wave,) = readiness.assess(app_db, dt.date(2022, 9, 15), "W1")
    series = readiness.burn_up(programme, wave, 8)
    burn = charts.burn_up_chart(series, readiness.burn_up_forecast(series, wave.go_live),
                                wave.go_live, wave.as_of)  # fmt: skip
    line = "Go/no-go meeting 14 Sep 2022, Joint decision group: Go with conditions"
    report = charts.report_chart("W1", pd_table(wave), burn, subtitle=line)
    assert charts.spec(report)["title"]["subtitle"] == line
    assert charts.to_png(report).startswith(b"\x89PNG")
    assert "subtitle" not in charts.spec(charts.report_chart("W1", pd_table(wave), burn))["title"]
