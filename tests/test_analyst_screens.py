"""Issue 12 for analysts and managers: New decision, Demos and People and settings. A saved
form starts empty (a late second click creates nothing), the proposal's forum follows domain
and scope and its organisations fit the scope, every problem shows at once, a scheduled demo
can be changed, moved, cancelled and recorded once it has started, people get no non-ASCII
email, no silent namesake and the forums of their own side; the three pages in bokmål."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import drive_decision, snapshot
from streamlit.testing.v1 import AppTest

import ui
from decisions import admin, evidence, services, store
from decisions import io as transfer_io
from decisions.model import SYSTEM_ACTOR, StaleRecord, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import people as people_store

PAGES = Path(__file__).resolve().parents[1] / "pages"
PROPOSAL = {
    "title": "Barcode scanning at the bedside",
    "domain": "MED",
    "module": "MED-ADM",
    "forum": "MED-H",
    "scope": "hospital",
    "organizations": ["STO"],
    "criticality": "medium",
}


@pytest.fixture
def app(programme, db_path):
    """app(page, email, tab=None, **query) -> an AppTest that ran `page` as `email`."""
    connections = []

    def open_page(page: str, email: str, tab: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
        if tab:
            at.session_state[f"{page}_tab"] = tab
        at.query_params.update(query)
        connections.append(store.connect(db_path))
        at.session_state["_conn"] = connections[-1]
        at.session_state["_actor"] = decision_store.load_actor(programme, email)
        return ran(at)

    yield open_page
    for connection in connections:
        connection.close()


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def widget(widgets, label: str):
    matches = [w for w in widgets if w.label == label]
    assert matches, f"no widget {label!r} among {[w.label for w in widgets]}"
    return matches[0]


def shown(elements) -> str:
    return "\n".join(str(e.value) for e in elements).replace("\\", "")


def count(conn, table: str) -> int:
    return store.scalar(conn, f"SELECT count(*) FROM {table}")


# New decision: the rules ------------------------------------------------------------------------


def test_a_hospital_decision_cannot_affect_a_municipality(programme, actor):
    with pytest.raises(WorkflowError, match="TRD is a municipality or GP office, outside the "
                       "scope hospital"):  # fmt: skip
        services.create_decision(programme, actor("hanne@stolav.no"),
                                 PROPOSAL | {"organizations": ["STO", "TRD"]})  # fmt: skip
    joint = services.create_decision(programme, actor("hanne@stolav.no"),
                                     PROPOSAL | {"scope": "joint", "forum": "FBG",
                                                 "organizations": ["STO", "TRD"]})  # fmt: skip
    everyone = services.create_decision(programme, actor("hanne@stolav.no"),
                                        PROPOSAL | {"organizations": ["ALL"]})  # fmt: skip
    assert decision_store.get_decision(programme, joint)["scope"] == "joint"
    assert decision_store.get_decision(programme, everyone)["all_organizations"] == 1
    with pytest.raises(WorkflowError, match="TRD is a municipality"):  # an edit obeys it too
        services.edit_decision(programme, actor("mona@hemit.no"), everyone,
                               {"organizations": ["TRD"]})  # fmt: skip


def test_every_problem_of_a_proposal_is_reported_at_once(programme, actor):
    before = snapshot(programme)
    with pytest.raises(WorkflowError) as refused:
        services.create_decision(programme, actor("hanne@stolav.no"),
                                 PROPOSAL | {"title": " ", "module": "", "criticality": "huge",
                                             "organizations": ["TRD"]})  # fmt: skip
    problems = refused.value.problems
    assert len(problems) == 4, problems
    assert any("title is required" in p for p in problems)
    assert any("module is required" in p for p in problems)
    assert any("criticality must be one of" in p for p in problems)
    assert any("TRD is a municipality" in p for p in problems)
    assert str(refused.value) == "; ".join(problems)
    assert snapshot(programme) == before


def test_the_import_refuses_organisations_outside_the_scope(programme):
    text = ("key,title,domain,module,forum,scope,organizations,criticality,stage\n"
            "MED-0900,Mixed,MED,MED-ADM,MED-H,hospital,STO;TRD,medium,proposed\n")  # fmt: skip
    result = transfer_io.import_sources(
        programme, [transfer_io.Source("decisions.csv", text.encode(), "decisions")],
        SYSTEM_ACTOR,
    )  # fmt: skip
    assert not result.written
    assert any("organizations" in str(e) and "TRD is a municipality" in str(e)
               for e in result.errors), [str(e) for e in result.errors]  # fmt: skip


@pytest.mark.parametrize(
    ("domain", "scope", "forum"),
    [("MED", "hospital", "MED-H"), ("MED", "municipality", "MED-M"), ("MED", "joint", "FBG"),
     ("LAB", "municipality", "LAB-H")],  # LAB has no municipal or joint forum: its own
)  # fmt: skip
def test_the_forum_proposed_follows_domain_and_scope(programme, domain, scope, forum):
    from decisions.store import reference

    covers: dict[str, set] = {}
    for row in reference.list_table(programme, "forum_domains"):
        covers.setdefault(row["forum"], set()).add(row["domain"])
    forums = [f | {"domains": covers.get(f["code"], set())}
              for f in reference.list_table(programme, "forums")]  # fmt: skip
    assert services.default_forum(forums, domain, scope) == forum


# New decision: the page -------------------------------------------------------------------------


def test_new_decision_proposes_the_forum_and_organisations_of_the_scope(app):
    at = app("new_decision", "hanne@stolav.no")  # St. Olavs: hospital side
    assert at.selectbox(key="new_decision_scope").value == "hospital"
    assert widget(at.selectbox, "Forum").value == "MED-H"
    assert widget(at.multiselect, "Organisations").options == ["St. Olavs hospital"]
    at.selectbox(key="new_decision_scope").set_value("joint")
    ran(at)
    assert widget(at.selectbox, "Forum").value == "FBG"  # the joint decision group of MED
    assert len(widget(at.multiselect, "Organisations").options) == 2
    at.selectbox(key="new_decision_scope").set_value("municipality")
    ran(at)
    assert widget(at.selectbox, "Forum").value == "MED-M"
    assert widget(at.multiselect, "Organisations").options == ["Trondheim kommune"]


def test_new_decision_shows_every_problem_at_once(app, programme):
    at = app("new_decision", "hanne@stolav.no")
    before = snapshot(programme)
    widget(at.button, "Propose").click()
    ran(at)
    [error] = at.error
    assert "- title is required" in error.value.replace("\\", "")
    assert "- organizations: name at least one, or ALL" in error.value.replace("\\", "")
    assert snapshot(programme) == before


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """The whole app (streamlit_app.py and its navigation) on the small programme."""
    import test_pages_core

    path = tmp_path / "app.db"
    test_pages_core.make_programme(path)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    conn = store.connect(path)
    yield conn
    conn.close()


def test_a_double_click_on_propose_makes_one_decision(app_db):
    from test_pages_core import signed_in

    at = signed_in("ana@hemit.no", "pages/new_decision.py")
    widget(at.text_input, "Title").input("Barcode scanning at the bedside")
    widget(at.multiselect, "Organisations").set_value(["STO"])
    before = count(app_db, "decisions")
    first = widget(at.button, "Propose")
    first.click()
    ran(at)
    assert count(app_db, "decisions") == before + 1
    assert widget(at.text_input, "Title").value == ""  # the form starts afresh
    # the second click of a double click names the button of the saved form: it is gone
    assert widget(at.button, "Propose").id != first.id
    ran(at)
    assert count(app_db, "decisions") == before + 1
    assert at.page_link[0].label == f"Open {ui.md(at.session_state['_new_decision'])}"


# People -----------------------------------------------------------------------------------------

SIRI = {"name": "Siri Østby", "organization": "STO", "domains": ["MED"], "roles": ["expert"],
        "allocation_pct": 40}  # fmt: skip


def test_an_email_with_norwegian_letters_is_refused_saying_how_to_write_it(programme, actor):
    with pytest.raises(WorkflowError, match="holds ø: an email address takes the letters a-z"):
        admin.save_expert(programme, actor("mona@hemit.no"), email="siri.østby@stolav.no",
                          **SIRI)  # fmt: skip
    assert people_store.get_expert(programme, "siri.østby@stolav.no") is None


def test_a_second_person_of_the_same_name_is_refused_unless_confirmed(programme, actor):
    mona = actor("mona@hemit.no")
    admin.save_expert(programme, mona, email="siri.ostby@stolav.no", **SIRI)
    with pytest.raises(WorkflowError, match=r"Siri Østby \(siri.ostby@stolav.no, STO\) is in "
                       "the directory already"):  # fmt: skip
        admin.save_expert(programme, mona, email="siri.o@stolav.no",
                          **SIRI | {"name": "siri  østby"})  # fmt: skip
    admin.save_expert(programme, mona, email="siri.o@stolav.no", **SIRI, same_name=True)
    assert len(admin.same_names(programme, "Siri Østby")) == 2


def test_a_person_without_forums_sits_in_those_of_their_side(programme, actor):
    mona = actor("mona@hemit.no")
    admin.save_expert(programme, mona, email="siri@stolav.no", **SIRI)
    admin.save_expert(programme, mona, email="kim@trondheim.kommune.no",
                      **SIRI | {"name": "Kim", "organization": "TRD"})  # fmt: skip
    admin.save_expert(programme, mona, email="ali@hemit.no",
                      **SIRI | {"name": "Ali", "roles": ["analyst"]})  # fmt: skip
    assert people_store.get_expert(programme, "siri@stolav.no")["forums"] == ["MED-H"]
    assert people_store.get_expert(programme, "kim@trondheim.kommune.no")["forums"] == ["MED-M"]
    assert people_store.get_expert(programme, "ali@hemit.no")["forums"] == []  # no forum seat


def test_adding_a_person_clears_the_form_and_a_namesake_needs_a_tick(app, programme):
    at = app("people", "mona@hemit.no")
    widget(at.text_input, "Email").input("siri.østby@stolav.no")
    widget(at.text_input, "Name").input("Hanne")  # as hanne@stolav.no is called
    [w for w in at.selectbox if w.label == "Organisation"][-1].set_value("STO")
    widget(at.button, "Save the expert").click()
    ran(at)
    assert "holds ø" in shown(at.error)
    widget(at.text_input, "Email").input("hanne.b@stolav.no")
    widget(at.button, "Save the expert").click()
    ran(at)
    assert "Hanne (hanne@stolav.no, STO) is in the directory already" in shown(at.error)
    before = count(programme, "experts")
    widget(at.checkbox, "This is another person with the same name").check()
    widget(at.button, "Save the expert").click()
    ran(at)
    assert "hanne.b@stolav.no saved." in shown(at.success)
    assert count(programme, "experts") == before + 1
    assert widget(at.text_input, "Email").value == ""  # the next person starts afresh
    assert not [c for c in at.checkbox if c.label.startswith("This is another person")]


def test_forum_members_are_a_table_with_their_organisation_and_are_added_one_by_one(app, programme):
    at = app("people", "mona@hemit.no", tab="Forums")
    at.selectbox(key="forum_edit").set_value("MED-H")
    ran(at)
    members = at.dataframe[1].value
    assert sorted(members["Email"]) == ["hanne@stolav.no", "kari@stolav.no", "per@stolav.no"]
    assert set(members["Organisation"]) == {"St. Olavs hospital"}
    assert set(members["Side"]) == {"Hospital"}
    assert "3 members" in shown(at.subheader)
    at.selectbox(key="add_member_MED-H").set_value("ola@trondheim.kommune.no")
    ran(at)
    widget(at.button, "Add").click()
    ran(at)
    forum = people_store.get_forum(programme, "MED-H")
    assert "ola@trondheim.kommune.no" in forum["members"] and len(forum["members"]) == 4
    assert "joined forum MED-H" in shown(at.success)
    assert "4 members" in shown(at.subheader)


# Demos ------------------------------------------------------------------------------------------


def schedule(programme, actor, key, day="2022-09-20", start="10:00") -> str:
    return evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM", date=day,
                              decisions=[key], presenter="ana@hemit.no", held=False,
                              invitees=["hanne@stolav.no"], start_time=start)  # fmt: skip


def test_a_scheduled_demo_is_recorded_once_it_has_started(programme, actor, time_of_day):
    time_of_day("09:00")
    key = drive_decision(programme, "built")
    later = schedule(programme, actor, key, day="2022-09-15", start="13:00")
    record = {"module": "MED-ADM", "date": None, "decisions": [key],
              "presenter": "ana@hemit.no", "attendees": ["hanne@stolav.no"], "held": True}  # fmt: skip
    with pytest.raises(WorkflowError, match="starts on 2022-09-15 at 13:00; it can be recorded "
                       "as held once it has started"):  # fmt: skip
        evidence.save_demo(programme, actor("ana@hemit.no"), key=later, **record)
    time_of_day("13:05")
    evidence.save_demo(programme, actor("ana@hemit.no"), key=later, **record)
    assert decision_store.get_decision(programme, key)["stage"] == "demonstrated"


def test_a_scheduled_demo_is_moved_with_a_version_check_and_a_cancelled_one_stays(programme, actor):
    key = drive_decision(programme, "built")
    demo = schedule(programme, actor, key)
    move = {"module": "MED-ADM", "decisions": [key], "presenter": "ana@hemit.no", "held": False}
    evidence.save_demo(programme, actor("ana@hemit.no"), key=demo, row_version=1,
                       date="2022-09-22", start_time="14:30", place="Nidelva", **move)  # fmt: skip
    moved = evidence_store.get_demo(programme, demo)
    assert (moved["date"], moved["start_time"], moved["place"]) == ("2022-09-22", "14:30",
                                                                    "Nidelva")  # fmt: skip
    with pytest.raises(StaleRecord):
        evidence.save_demo(programme, actor("mona@hemit.no"), key=demo, row_version=1,
                           date="2022-09-23", **move)  # fmt: skip
    with pytest.raises(WorkflowError, match="has passed"):
        evidence.save_demo(programme, actor("ana@hemit.no"), key=demo, row_version=2,
                           date="2022-09-01", **move)  # fmt: skip
    evidence.cancel_demo(programme, actor("ana@hemit.no"), demo, "no room", row_version=2)
    with pytest.raises(WorkflowError, match="is cancelled; schedule a new one"):
        evidence.save_demo(programme, actor("ana@hemit.no"), key=demo, date="2022-09-24", **move)


def test_the_schedule_form_starts_with_nothing_ticked_and_clears_once_saved(app, programme):
    key = drive_decision(programme, "built")
    at = app("demos", "ana@hemit.no", tab="Schedule a demo")
    at.selectbox(key="schedule_module").set_value("MED-ADM")
    ran(at)
    assert widget(at.multiselect, "Decisions it will show").value == []
    widget(at.multiselect, "Decisions it will show").set_value([key])
    first = widget(at.button, "Schedule the demo")
    first.click()
    ran(at)
    assert count(programme, "demos") == 1
    assert "scheduled for 22 Sep 2022 10:00 with 0 invited" in shown(at.success)
    assert at.session_state["demos_tab"] == "Upcoming"  # moved on to the new demo
    at.session_state["demos_tab"] = "Schedule a demo"
    ran(at)
    at.selectbox(key="schedule_module").set_value("MED-ADM")
    ran(at)
    assert widget(at.multiselect, "Decisions it will show").value == []
    assert widget(at.button, "Schedule the demo").id != first.id  # a late second click: gone
    assert count(programme, "demos") == 1


def test_the_decision_pages_link_opens_the_schedule_form_with_the_decision_ticked(app, programme):
    key = drive_decision(programme, "built")
    at = app("demos", "ana@hemit.no", schedule=key)
    assert at.session_state["demos_tab"] == "Schedule a demo"
    assert at.selectbox(key="schedule_module").value == "MED-ADM"
    assert widget(at.multiselect, "Decisions it will show").value == [key]


def test_a_future_demo_says_when_it_can_be_recorded_and_is_moved_from_its_entry(
    app, programme, actor
):
    key = drive_decision(programme, "built")
    demo = schedule(programme, actor, key)
    at = app("demos", "ana@hemit.no")
    at.selectbox(key="manage_demo").set_value(demo)
    ran(at)
    assert f"{demo} starts at 20 Sep 2022 10:00; it can be recorded as held from then" in shown(
        at.caption
    )
    assert not [b for b in at.button if b.label == "Record it as held"]
    widget(at.date_input, "Date").set_value(dt.date(2022, 9, 21))
    widget(at.text_input, "Place").input("Auditoriet")
    widget(at.button, "Save the changes").click()
    ran(at)
    assert f"Demo {demo} is now on 21 Sep 2022 10:00" in shown(at.success)
    record = evidence_store.get_demo(programme, demo)
    assert (record["date"], record["place"]) == ("2022-09-21", "Auditoriet")
    at = app("demos", "ana@hemit.no", tab="Record a held demo")
    assert f"1 scheduled demo has not started yet; it can be recorded as held once it has " \
           f"started ({demo} at 21 Sep 2022 10:00)" in shown(at.caption)  # fmt: skip


def test_a_started_demo_is_recorded_from_its_entry(app, programme, actor, time_of_day):
    time_of_day("11:00")
    key = drive_decision(programme, "built")
    demo = schedule(programme, actor, key, day="2022-09-15", start="10:00")
    at = app("demos", "ana@hemit.no")
    at.selectbox(key="manage_demo").set_value(demo)
    ran(at)
    widget(at.button, "Record it as held").click()
    ran(at)
    assert at.session_state["demos_tab"] == "Record a held demo"
    assert at.selectbox(key="record_demo").value == demo
    assert widget(at.multiselect, "Experts who attended").value == ["hanne@stolav.no"]
    widget(at.button, "Record the demo as held").click()
    ran(at)
    assert f"Now demonstrated: {key}" in shown(at.success)
    assert decision_store.get_decision(programme, key)["stage"] == "demonstrated"


def test_a_scheduled_demo_is_cancelled_from_its_entry(app, programme, actor):
    key = drive_decision(programme, "built")
    demo = schedule(programme, actor, key)
    at = app("demos", "ana@hemit.no")
    at.selectbox(key="manage_demo").set_value(demo)
    ran(at)
    widget(at.text_input, "Reason (the invited see it in the event log)").input("No room")
    widget(at.button, "Cancel the demo").click()
    ran(at)
    assert f"Demo {demo} cancelled" in shown(at.success)
    assert evidence_store.get_demo(programme, demo)["cancelled"] == 1


# Bokmål -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "tab", "title"),
    [("new_decision", None, "Ny beslutning"), ("demos", "Kommende", "Demonstrasjoner"),
     ("demos", "Tidligere", "Demonstrasjoner"),
     ("demos", "Planlegg en demonstrasjon", "Demonstrasjoner"),
     ("demos", "Registrer en holdt demonstrasjon", "Demonstrasjoner"),
     ("people", "Personer", "Personer og innstillinger"),
     ("people", "Forum", "Personer og innstillinger"),
     ("people", "Godkjenningsregel", "Personer og innstillinger")],
)  # fmt: skip
def test_the_analyst_pages_read_in_bokmal(app, programme, actor, monkeypatch, page, tab, title):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")  # strict: an untranslated text fails
    key = drive_decision(programme, "built")
    schedule(programme, actor, key)
    at = app(page, "mona@hemit.no", tab=tab)
    assert at.title[0].value == title
    if page == "demos" and tab == "Kommende":
        at.selectbox(key="manage_demo").set_value("DEMO-0001")
        ran(at)
        assert "20.09.2022 10:00" in shown(at.caption)
    if page == "people" and tab == "Forum":
        at.selectbox(key="forum_edit").set_value("MED-H")
        ran(at)
        assert "3 medlemmer" in shown(at.subheader)


def test_a_demo_whose_date_passed_unrecorded_can_be_recorded_or_moved(app, programme, actor):
    key = drive_decision(programme, "built")
    demo = schedule(programme, actor, key, day="2022-09-15", start="10:00")
    store.put_setting(programme, "clock", "2022-09-19")  # four days on, never recorded
    at = app("demos", "ana@hemit.no")
    at.selectbox(key="manage_demo").set_value(demo)
    ran(at)
    assert f"{demo} started at 15 Sep 2022 10:00: record who attended." in shown(at.info)
    assert widget(at.button, "Record it as held")
    assert widget(at.date_input, "Date").value == dt.date(2022, 9, 19)  # moving it: today on
