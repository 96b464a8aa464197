"""The evidence pages and the people page in Streamlit's AppTest: each renders for the people
who use it, and each form saves a valid submission and refuses an invalid one with its reason
(writing nothing)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import snapshot
from streamlit.testing.v1 import AppTest

from decisions import evidence, services, store
from decisions.store import decisions as decision_store

PAGES = Path(__file__).resolve().parents[1] / "pages"


@pytest.fixture
def app(programme, db_path):
    """app(page, email) -> an AppTest that ran `page` signed in as `email`.

    The page runs on its own with the frame's session state (this run's connection and the
    signed-in person) set up front: run through streamlit_app.py, AppTest first runs the page
    file directly and reruns, which drops a form's submit trigger."""
    connections = []

    def open_page(page: str, email: str, tab: str | None = None) -> AppTest:
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
        if tab:
            at.session_state[f"{page}_tab"] = tab
        connections.append(store.connect(db_path))
        at.session_state["_conn"] = connections[-1]
        at.session_state["_actor"] = decision_store.load_actor(programme, email)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    yield open_page
    for connection in connections:
        connection.close()


def widget(widgets, label: str):
    matches = [w for w in widgets if w.label == label]
    assert matches, f"no widget {label!r} among {[w.label for w in widgets]}"
    return matches[0]


def submit(at: AppTest, label: str) -> AppTest:
    widget(at.button, label).click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(elements) -> str:
    """The elements' text as shown: markdown escapes of user text removed."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in elements))


def stage(conn, key):
    return decision_store.get_decision(conn, key)["stage"]


# Approvals --------------------------------------------------------------------------------------


def test_an_expert_approves_from_the_queue_and_sees_the_rule_progress(
    app, programme, decision_at, actor
):
    key = decision_at("demonstrated")
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    at = app("approvals", "hanne@stolav.no")
    assert "Awaiting your verdict (1)" in texts(at.subheader)
    queue = at.dataframe[0].value
    assert queue["key"].tolist() == [key]
    assert "needs 1 more approver of the domain" in queue["Approval rule"][0]
    widget(at.radio, "Verdict").set_value("approve")
    submit(at, "Save verdict")
    assert stage(programme, key) == "approved"
    assert "rule met: 2 of 2 approvers" in texts(at.success)
    assert "Awaiting your verdict (0)" in texts(at.subheader)


def test_requesting_changes_without_a_comment_is_refused(app, programme, decision_at):
    key = decision_at("demonstrated")
    at = app("approvals", "hanne@stolav.no")
    before = snapshot(programme)
    widget(at.radio, "Verdict").set_value("changes_requested")
    submit(at, "Save verdict")
    assert "comment is required" in texts(at.error)
    assert snapshot(programme) == before and stage(programme, key) == "demonstrated"


def test_a_verdict_dated_in_the_future_is_refused_on_the_page(app, programme, decision_at):
    decision_at("demonstrated")
    at = app("approvals", "hanne@stolav.no")
    before = snapshot(programme)
    widget(at.date_input, "Date").set_value(dt.date(2022, 9, 30))
    submit(at, "Save verdict")
    assert "in the future" in texts(at.error) and snapshot(programme) == before


def test_attending_experts_give_verdicts_on_a_whole_demo(app, programme, decision_at, actor):
    first, second = decision_at("built"), decision_at("built")
    evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=[first, second], presenter="ana@hemit.no",
                       attendees=["per@stolav.no"], held=True)  # fmt: skip
    at = app("approvals", "per@stolav.no")
    at.radio(key=f"batch_verdict_{first}").set_value("approve")
    at.radio(key=f"batch_verdict_{second}").set_value("changes_requested")
    at.text_input(key=f"batch_comment_{second}").input("Wrong unit")
    submit(at, "Save these verdicts")
    assert "2 verdicts saved" in texts(at.success)
    assert (stage(programme, first), stage(programme, second)) == ("demonstrated", "in_build")


def test_someone_without_a_domain_sees_what_awaits_every_expert(app, decision_at):
    key = decision_at("demonstrated")
    at = app("approvals", "mona@hemit.no")
    assert "approvals queue is for experts" in texts(at.info)
    assert at.dataframe[0].value["key"].tolist() == [key]


# Demos ------------------------------------------------------------------------------------------


def schedule_tab(app, email="ana@hemit.no"):
    at = app("demos", email, tab="Schedule a demo")
    at.selectbox(key="schedule_module").set_value("MED-ADM")
    at.run()
    return at


def test_an_analyst_schedules_a_demo_that_is_then_upcoming_with_a_calendar(
    app, programme, decision_at
):
    key = decision_at("built")
    at = schedule_tab(app)
    assert widget(at.multiselect, "Decisions it will show").value == []  # none ticked for you
    widget(at.multiselect, "Decisions it will show").set_value([key])
    widget(at.multiselect, "Invited experts (of MED)").set_value(["hanne@stolav.no"])
    submit(at, "Schedule the demo")
    assert "scheduled for 22 Sep 2022 10:00 with 1 invited" in texts(at.success)
    at.session_state["demos_tab"] = "Upcoming"
    at.run()
    upcoming = at.dataframe[0].value
    assert upcoming["Decisions"].tolist() == [key]
    assert at.get("download_button")


def test_scheduling_a_demo_offers_today_or_later(app, programme, decision_at):
    decision_at("built")
    at = schedule_tab(app)
    assert widget(at.date_input, "Date").min == dt.date(2022, 9, 15)  # the service refuses earlier


def test_recording_a_held_demo_moves_its_decisions_and_needs_an_attendee(
    app, programme, decision_at, actor
):
    key = decision_at("built")
    evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM", date="2022-09-15",
                       decisions=[key], presenter="ana@hemit.no", start_time="00:00",
                       invitees=["hanne@stolav.no"], held=False)  # fmt: skip
    at = app("demos", "ana@hemit.no", tab="Record a held demo")
    attendees = widget(at.multiselect, "Experts who attended")
    assert attendees.value == ["hanne@stolav.no"]  # the invited, to tick off
    attendees.set_value([])
    before = snapshot(programme)
    submit(at, "Record the demo as held")
    assert "at least one attending expert" in texts(at.error) and snapshot(programme) == before
    widget(at.multiselect, "Experts who attended").set_value(["hanne@stolav.no", "per@stolav.no"])
    submit(at, "Record the demo as held")
    assert f"Now demonstrated: {key}" in texts(at.success)
    assert stage(programme, key) == "demonstrated"


def test_experts_see_demos_but_do_not_schedule_them(app, decision_at):
    at = app("demos", "hanne@stolav.no", tab="Schedule a demo")
    assert "Recording a demo needs the role analyst or manager or admin" in texts(at.info)


# Testing ----------------------------------------------------------------------------------------


def test_a_tester_records_a_failed_run_with_its_defect_and_sees_the_decision_failing(
    app, programme, decision_at, actor
):
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    at = app("testing", "tess@hemit.no", tab="Log a run")
    widget(at.radio, "Result").set_value("failed")
    submit(at, "Log the run")
    assert f"of {case} logged: failed. Now: {key} (In test)" in texts(at.success)
    widget(at.text_input, "Defect title").input("Dose rounds wrongly")
    widget(at.radio, "Vendor severity").set_value(3)
    widget(at.radio, "Clinical severity").set_value(1)
    submit(at, "Record the defect")
    assert "Defect DEF-0001 recorded and linked to run" in texts(at.success)
    at.session_state["testing_tab"] = "Coverage of a wave"
    at.run()
    failing = next(d.value for d in at.dataframe if {"Criticality", "Defect"} <= set(d.value))
    assert failing[["key", "Defect"]].values.tolist() == [[key, "DEF-0001"]]


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        ({"date": dt.date(2022, 10, 1)}, "in the future"),
        ({"result": None}, "Choose the result"),
    ],
)
def test_an_invalid_run_is_refused_on_the_page(app, programme, decision_at, actor, fill, message):
    key = decision_at("approved")
    evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                            kind="acceptance", decisions=[key])  # fmt: skip
    at = app("testing", "tess@hemit.no", tab="Log a run")
    if "result" not in fill:
        widget(at.radio, "Result").set_value("failed")
    if "date" in fill:
        widget(at.date_input, "Run on").set_value(fill["date"])
    before = snapshot(programme)
    submit(at, "Log the run")
    assert message in texts([*at.error, *at.warning]) and snapshot(programme) == before


def test_a_test_case_is_added_and_an_unknown_decision_refused(app, programme, decision_at):
    key = decision_at("approved")
    at = app("testing", "tess@hemit.no")
    widget(at.text_input, "Title").input("Two signatures")
    widget(at.multiselect, "Decisions it covers").set_value([key, "NOPE-0001"])
    submit(at, "Add the test case")
    assert "no decision 'NOPE-0001'" in texts(at.error)
    widget(at.text_input, "Title").input("Two signatures")
    widget(at.multiselect, "Decisions it covers").set_value([key.lower()])
    submit(at, "Add the test case")
    assert "Test case TC-0001 added." in texts(at.success)


def test_coverage_shows_approved_decisions_without_a_test_case(app, decision_at):
    key = decision_at("approved")
    at = app("testing", "mona@hemit.no", tab="Coverage of a wave")
    at.selectbox(key="coverage_wave").set_value("W1")
    at.run()
    uncovered = next(d.value for d in at.dataframe if "In this stage since" in d.value)
    assert uncovered["key"].tolist() == [key]


# Suspect evidence -------------------------------------------------------------------------------


def test_suspect_evidence_lists_what_a_revision_left_to_redo(
    app, programme, decision_at, actor, advance_clock
):
    assert "No evidence is suspect" in texts(app("suspect", "mona@hemit.no").success)
    key = decision_at("approved")
    advance_clock()
    services.revise(programme, actor("hanne@stolav.no"), key, decision_text="New text.",
                    reason="Regulation")  # fmt: skip
    at = app("suspect", "mona@hemit.no")
    row = at.dataframe[0].value.iloc[0]
    assert (row["key"], row["Version"], row["Must be redone"]) == (key, 2, "a new demo, approvals")


# People and settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["hanne@stolav.no", "tess@hemit.no", "vera@hemit.no"])
def test_people_and_settings_is_for_managers_and_admins(app, email):
    at = app("people", email)
    assert "needs the role manager or admin" in texts(at.warning)
    assert not at.dataframe


def test_a_manager_changes_the_approval_rule_and_the_stages_follow(app, programme, decision_at):
    key = decision_at("approved")
    at = app("people", "mona@hemit.no", tab="Approval rule")
    widget(at.number_input, "Approvers needed").set_value(3)
    submit(at, "Preview the effect")
    assert "1 from Approved to Demonstrated" in texts(at.warning)
    assert stage(programme, key) == "approved"
    submit(at, "Change the rule")
    assert "1 decision moved stage. 1 Approved → Demonstrated" in texts(at.success)
    assert stage(programme, key) == "demonstrated"


def test_an_invalid_rule_is_refused(app, programme):
    at = app("people", "admin@hemit.no", tab="Approval rule")
    before = snapshot(programme)
    widget(at.number_input, "Approvers needed").set_value(5)
    submit(at, "Preview the effect")
    assert "critical must be at least" in texts(at.error) and snapshot(programme) == before
    assert not [b for b in at.button if b.label == "Change the rule"]


def test_a_manager_adds_an_expert_and_a_bad_email_is_refused(app, programme):
    at = app("people", "mona@hemit.no")
    widget(at.text_input, "Email").input("not-an-email")
    widget(at.text_input, "Name").input("Siri")
    form_organisation = [w for w in at.selectbox if w.label == "Organisation"][-1]  # not the filter
    form_organisation.set_value("TRD")
    submit(at, "Save the expert")
    assert "is not an email address" in texts(at.error)
    widget(at.text_input, "Email").input("siri@trondheim.kommune.no")
    widget(at.multiselect, "Domains").set_value(["MED"])
    submit(at, "Save the expert")
    assert "siri@trondheim.kommune.no saved." in texts(at.success), texts(at.error)
    # her side's forum of MED: she works for the municipality
    assert decision_store.load_actor(programme, "siri@trondheim.kommune.no").forums == {"MED-M"}


def test_recording_a_demo_someone_else_changed_meanwhile_is_refused(
    app, programme, decision_at, actor
):
    key = decision_at("built")
    demo = evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM",
                              date="2022-09-15", decisions=[key], presenter="ana@hemit.no",
                              invitees=["hanne@stolav.no"], held=False,
                              start_time="00:00")  # fmt: skip
    at = app("demos", "ana@hemit.no", tab="Record a held demo")
    evidence.save_demo(programme, actor("mona@hemit.no"), key=demo, row_version=1,
                       module="MED-ADM", date="2022-09-15", decisions=[key],
                       presenter="ana@hemit.no", invitees=["hanne@stolav.no"],
                       notes="Moved room", held=False)  # fmt: skip
    submit(at, "Record the demo as held")
    assert "changed by someone else" in texts(at.error)
    assert stage(programme, key) == "built"
