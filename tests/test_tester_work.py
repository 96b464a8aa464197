"""Issue 24, the tester's work is theirs: My work holds a tester's own queues (their domains'
decisions, the test cases they created or ran last), and a row leads to the run it asks for,
which keeps that test case; a defect is changed by picking it from the list, and a new test
case's decisions are picked from a list too, not typed."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest
from test_tester_screens import APP, TESS, click, ran, shown, widget

from decisions import evidence, store
from decisions.store import evidence as evidence_store
from decisions.store import reference

TINA = "tina@hemit.no"  # a tester of the laboratory alone


@pytest.fixture
def second_tester(programme):
    with store.transaction(programme):
        reference.insert_rows(
            programme,
            "experts",
            [{"email": TINA, "name": "Tina", "organization": "STO", "allocation_pct": 50}],
        )
        reference.insert_rows(programme, "expert_domains", [{"expert": TINA, "domain": "LAB"}])
        reference.insert_rows(programme, "expert_roles", [{"expert": TINA, "role": "tester"}])
    return TINA


@pytest.fixture
def app(programme, db_path, monkeypatch):
    """app(email, page, **query) -> an AppTest of the app on that page, signed in as `email`."""
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    store.put_setting(programme, "demo", True)

    def open_page(email: str, page: str, **query) -> AppTest:
        at = ran(AppTest.from_file(APP, default_timeout=60))
        at.sidebar.selectbox[0].set_value(email)
        ran(at)
        at.query_params.update(query)
        at.switch_page(page)
        return ran(at)

    return open_page


def case_of(programme, actor, email: str, key: str, title: str = "Check") -> str:
    return evidence.save_test_case(programme, actor(email), title=title, kind="acceptance",
                                   decisions=[key])  # fmt: skip


def queued_to_run(at: AppTest) -> list[str]:
    table = next(d.value for d in at.dataframe if "What is asked" in d.value)
    return sorted(table["ID"] if "ID" in table else table["key"])


def test_my_work_holds_each_testers_own_tests_to_run(
    app, programme, decision_at, actor, second_tester
):
    medication, by_tina = decision_at("approved"), decision_at("approved")
    case_of(programme, actor, "admin@hemit.no", medication)
    case_of(programme, actor, TINA, by_tina)  # she wrote it, outside her domain
    tess, tina = app(TESS, "pages/my_work.py"), app(TINA, "pages/my_work.py")
    assert queued_to_run(tess) == sorted([medication, by_tina])
    assert queued_to_run(tina) == [by_tina]
    assert "(Laboratory)" in shown(tina.caption)
    tina.toggle(key="my_work_every_tester").set_value(True)
    assert queued_to_run(ran(tina)) == sorted([medication, by_tina])


def test_a_queue_row_leads_to_the_run_of_its_test_case_which_is_not_asked_again(
    app, programme, decision_at, actor
):
    key = decision_at("approved")
    first = case_of(programme, actor, TESS, key, "Dose check")
    second = case_of(programme, actor, TESS, key, "Label check")
    at = app(TESS, "pages/my_work.py")
    links = [link.proto for link in at.page_link if f"case={second}" in link.proto.query_string]
    assert links and parse_qs(links[0].query_string) == {"decision": [key], "case": [second]}
    assert links[0].page == "testing"
    run = app(TESS, "pages/testing.py", decision=key, case=second)
    assert f"**Testing {second}** · Label check" in shown(run.markdown)
    asking = [w.label for w in (*run.selectbox, *run.text_input)]
    assert not any("test case" in label.lower() for label in asking), asking
    widget(run.radio, "Result").set_value("passed")
    run = click(run, "Log the run")
    assert f"of {second} logged: passed" in shown(run.success)
    assert [r["test_case"] for r in store.rows(programme, "SELECT test_case FROM test_runs")] == [
        second
    ]
    assert first != second


def test_a_defect_is_changed_by_picking_it_from_the_list(app, programme, decision_at, actor):
    key = decision_at("approved")
    for title in ("Dose rounds", "Label typo"):
        evidence.save_defect(programme, actor(TESS), title=title, severity_vendor=3,
                             severity_clinical=3, decision=key)  # fmt: skip
    at = app(TESS, "pages/testing.py")
    at.session_state["testing_tab"] = "Defects"
    at = ran(at)
    assert not any(t.label.startswith("Change a defect") for t in at.text_input)
    picker = at.selectbox(key="defect_key")
    assert picker.options == ["DEF-0001 · Dose rounds", "DEF-0002 · Label typo"]
    picker.set_value("DEF-0002")
    at = ran(at)
    [status] = [w for w in at.selectbox if w.label == "Status" and w.key != "defect_status"]
    status.set_value("fixed")
    at = click(at, "Save the defect")
    assert "Defect DEF-0002 saved." in shown(at.success)
    assert evidence_store.get_defect(programme, "DEF-0002")["status"] == "fixed"
    assert evidence_store.get_defect(programme, "DEF-0001")["status"] == "open"


def test_a_test_cases_decisions_are_picked_from_a_list(app, programme, decision_at):
    first, second = decision_at("approved"), decision_at("built")
    withdrawn = decision_at("withdrawn")
    at = app(TESS, "pages/testing.py")
    covers = widget(at.multiselect, "Decisions it covers")
    keys = [option.split(" · ")[0] for option in covers.options]
    assert {first, second} <= set(keys) and withdrawn not in keys
    covers.set_value([first, second])
    widget(at.text_input, "Title").input("Both doses")
    at = click(at, "Add the test case")
    assert "Test case TC-0001 added." in shown(at.success)
    assert evidence_store.get_test_case(programme, "TC-0001")["decisions"] == sorted(
        [first, second]
    )
