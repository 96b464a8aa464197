"""Issue 12 for testers: a run is logged from the decision or the test case, a failed run's
defect is recorded in one step prefilled from the run, and a pass with open linked defects
asks, defect by defect, whether to close or keep it; the testing page reads in bokmål."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import snapshot
from streamlit.testing.v1 import AppTest

from decisions import evidence, i18n, services, store
from decisions.model import StaleRecord, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store

TESS = "tess@hemit.no"
APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def failed_run(programme, decision_at, actor):
    """An approved decision, its test case and a failed run of it: (decision, case, run id)."""
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor(TESS), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    run = evidence.record_test_run(programme, actor(TESS), test_case=case, result="failed",
                                   notes="Dose rounds to whole mg\nseen on ward 3")  # fmt: skip
    return key, case, run


def events_of(conn, entity: str, key: str) -> list[str]:
    return [e["action"] for e in store.rows(
        conn, "SELECT action FROM events WHERE entity = ? AND entity_key = ? ORDER BY id",
        (entity, key))]  # fmt: skip


# The services ---------------------------------------------------------------------------------


def test_a_failed_runs_defect_is_opened_and_linked_in_one_step(programme, actor, failed_run):
    key, case, run = failed_run
    defect = evidence.record_defect_for_run(programme, actor(TESS), run=run, title="Dose rounds",
                                            severity_vendor=3, severity_clinical=1)  # fmt: skip
    saved = evidence_store.get_defect(programme, defect)
    assert (saved["decision"], saved["test_case"], saved["status"]) == (key, case, "open")
    assert (saved["severity_vendor"], saved["severity_clinical"]) == (3, 1)
    assert saved["opened"] == evidence_store.get_test_run(programme, run)["date"][:10]
    assert evidence_store.get_test_run(programme, run)["defect"] == defect
    assert events_of(programme, "defect", defect) == ["opened"]
    assert events_of(programme, "test_run", str(run)) == ["failed", "defect_linked"]
    assert services.check(programme) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"severity_clinical": None}, "severity clinical must be 1, 2, 3 or 4"),
        ({"severity_vendor": None}, "severity vendor must be 1, 2, 3 or 4"),
        ({"title": "  "}, "defect title"),
        ({"decision": "NOPE-0001"}, "does not cover NOPE-0001"),
    ],
)
def test_a_defect_for_a_run_needs_both_severities_chosen(
    programme, actor, failed_run, fields, message
):
    run = failed_run[2]
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.record_defect_for_run(programme, actor(TESS), run=run,
                                       **({"title": "Dose rounds", "severity_vendor": 3,
                                           "severity_clinical": 1} | fields))  # fmt: skip
    assert snapshot(programme) == before


def test_a_run_that_has_a_defect_or_passed_gets_no_second_one(programme, actor, failed_run):
    key, case, run = failed_run
    first = dict(title="Dose rounds", severity_vendor=3, severity_clinical=1)
    evidence.record_defect_for_run(programme, actor(TESS), run=run, **first)
    before = snapshot(programme)
    with pytest.raises(StaleRecord, match="already has defect DEF-0001"):
        evidence.record_defect_for_run(programme, actor(TESS), run=run, **first)
    passed = evidence.record_test_run(programme, actor(TESS), test_case=case, result="passed")
    with pytest.raises(WorkflowError, match="a passed run opens no defect"):
        evidence.record_defect_for_run(programme, actor(TESS), run=passed, **first)
    assert snapshot(programme)["defects"] == before["defects"]


def test_a_pass_lists_the_open_defects_and_closes_the_chosen_ones(programme, actor, failed_run):
    key, case, run = failed_run
    serious = evidence.record_defect_for_run(programme, actor(TESS), run=run, title="Dose",
                                             severity_vendor=3, severity_clinical=1)  # fmt: skip
    minor = evidence.save_defect(programme, actor(TESS), title="Label typo", severity_vendor=4,
                                 severity_clinical=4, decision=key)  # fmt: skip
    evidence.record_test_run(programme, actor(TESS), test_case=case, result="passed")
    assert decision_store.get_decision(programme, key)["stage"] == "tested"
    waiting = evidence.defects_a_pass_may_close(programme, case)
    assert [d["key"] for d in waiting] == [serious, minor]  # the most severe first
    seen = {d["key"]: d["row_version"] for d in waiting}
    closed = evidence.close_defects(programme, actor(TESS), {serious: seen[serious]},
                                    closed="2022-09-15")  # fmt: skip
    assert closed == [serious]
    assert evidence_store.get_defect(programme, serious)["status"] == "closed"
    assert evidence_store.get_defect(programme, serious)["closed"] == "2022-09-15"
    assert [d["key"] for d in evidence.defects_a_pass_may_close(programme, case)] == [minor]
    assert events_of(programme, "defect", serious) == ["opened", "updated"]
    assert services.check(programme) == []


def test_closing_a_defect_someone_changed_meanwhile_closes_none(programme, actor, failed_run):
    key, case, run = failed_run
    first = evidence.record_defect_for_run(programme, actor(TESS), run=run, title="Dose",
                                           severity_vendor=3, severity_clinical=1)  # fmt: skip
    second = evidence.save_defect(programme, actor(TESS), title="Label", severity_vendor=4,
                                  severity_clinical=4, decision=key)  # fmt: skip
    seen = {d["key"]: d["row_version"] for d in evidence.defects_a_pass_may_close(programme, case)}
    evidence.save_defect(programme, actor("ana@hemit.no"), key=second, row_version=seen[second],
                         title="Label, and the dose unit", severity_vendor=4,
                         severity_clinical=2, decision=key)  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(StaleRecord):
        evidence.close_defects(programme, actor(TESS), seen)
    assert snapshot(programme) == before
    assert evidence_store.get_defect(programme, first)["status"] == "open"


# The testing page -----------------------------------------------------------------------------


@pytest.fixture
def page(programme, db_path, monkeypatch):
    """page(email, **query) -> an AppTest of the app on the testing page, signed in as `email`
    (the demo sign-in), with the query parameters given (as the decision page's link sets
    them)."""
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    store.put_setting(programme, "demo", True)

    def open_page(email: str, tab: str | None = None, **query) -> AppTest:
        at = ran(AppTest.from_file(APP, default_timeout=60))
        at.sidebar.selectbox[0].set_value(email)
        ran(at)
        if tab:
            at.session_state["testing_tab"] = tab
        at.query_params.update(query)
        at.switch_page("pages/testing.py")
        return ran(at)

    return open_page


def ran(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def widget(widgets, label: str):
    matches = [w for w in widgets if w.label.startswith(label)]
    assert matches, f"no widget {label!r} among {[w.label for w in widgets]}"
    return matches[0]


def click(at: AppTest, label: str) -> AppTest:
    widget(at.button, label).click()
    return ran(at)


def shown(elements) -> str:
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in elements))


def test_the_decisions_link_opens_the_run_of_its_test_case(page, programme, decision_at, actor):
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor(TESS), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    at = page(TESS, decision=key)
    assert at.session_state["testing_tab"] == "Log a run"
    assert f"**Testing {key}**" in shown(at.markdown)
    assert widget(at.selectbox, "1 test case covers it").value == case
    assert widget(at.radio, "Result").value is None  # no result assumed
    by_case = page(TESS, case=case)
    assert by_case.session_state["testing_tab"] == "Log a run"
    assert f"**Testing {case}** · Dose check" in shown(by_case.markdown)


def test_a_decision_without_a_test_case_offers_to_add_one(page, decision_at):
    key = decision_at("approved")
    at = page(TESS, decision=key)
    assert f"No test case covers {key} yet" in shown(at.info)
    assert widget(at.multiselect, "Decisions it covers").value == [key]
    widget(at.text_input, "Title").input("Two signatures")
    at = click(at, "Add the test case")
    assert "Test case TC-0001 added." in shown(at.success)
    assert widget(at.selectbox, "1 test case covers it").value == "TC-0001"


def test_a_failed_run_asks_for_its_defect_filled_in_from_the_run(
    page, programme, decision_at, actor
):
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor(TESS), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    at = page(TESS, decision=key)
    at = click(at, "Log the run")  # no result chosen: nothing is written
    assert "Choose the result" in shown(at.warning)
    assert store.scalar(programme, "SELECT count(*) FROM test_runs") == 0
    widget(at.radio, "Result").set_value("failed")
    widget(at.text_area, "Notes").input("Dose rounds to whole mg\non ward 3")
    at = click(at, "Log the run")
    assert f"of {case} logged: failed. Now: {key} (In test)." in shown(at.success)
    assert widget(at.text_input, "Defect title").value == "Dose rounds to whole mg"
    assert f"Decision: {key} · test case: {case}" in shown(at.caption)
    assert widget(at.radio, "Vendor severity").value is None  # chosen, never assumed
    assert widget(at.radio, "Clinical severity").value is None
    before = snapshot(programme)
    widget(at.radio, "Vendor severity").set_value(3)
    at = click(at, "Record the defect")
    assert "Choose both severities" in shown(at.warning) and snapshot(programme) == before
    widget(at.radio, "Clinical severity").set_value(1)
    at = click(at, "Record the defect")
    run = store.scalar(programme, "SELECT max(id) FROM test_runs")
    assert f"Defect DEF-0001 recorded and linked to run {run} of {case}." in shown(at.success)
    defect = evidence_store.get_defect(programme, "DEF-0001")
    assert (defect["decision"], defect["test_case"], defect["title"]) == (
        key, case, "Dose rounds to whole mg",
    )  # fmt: skip
    assert (defect["severity_vendor"], defect["severity_clinical"]) == (3, 1)
    assert not any(t.label == "Defect title" for t in at.text_input)  # asked once
    runs = next(d.value for d in at.dataframe if "What it means" in d.value)
    assert runs["What it means"].iloc[0] == (
        "Failed: testing ran, the decision stays in test until a run passes"
    )
    assert runs["Defect"].iloc[0] == "DEF-0001"


def test_a_pass_asks_of_each_open_defect_whether_to_close_it(
    page, programme, decision_at, actor, failed_run
):
    key, case, run = failed_run
    serious = evidence.record_defect_for_run(programme, actor(TESS), run=run, title="Dose",
                                             severity_vendor=3, severity_clinical=1)  # fmt: skip
    minor = evidence.save_defect(programme, actor(TESS), title="Label typo", severity_vendor=2,
                                 severity_clinical=4, decision=key)  # fmt: skip
    at = page(TESS, decision=key)
    widget(at.radio, "Result").set_value("passed")
    at = click(at, "Log the run")
    assert f"Now: {key} (Tested)." in shown(at.success)
    assert "2 linked defects are still open" in shown(at.markdown)
    answers = {r.key: r for r in at.radio if r.key and r.key.startswith("answer_")}
    assert set(answers) == {f"answer_{serious}", f"answer_{minor}"}
    assert all(r.value is None for r in answers.values())  # nothing closed unasked
    answers[f"answer_{serious}"].set_value("close")
    at = click(at, "Save the answers")
    assert f"Choose close or keep for {minor}." in shown(at.warning)
    assert evidence_store.get_defect(programme, serious)["status"] == "open"
    at.radio(key=f"answer_{minor}").set_value("keep")
    at = click(at, "Save the answers")
    message = shown(at.success)
    assert f"Closed: {serious}." in message
    assert f"Still open: {minor} (severity 2)." in message
    assert "cannot be marked ready" in message
    assert evidence_store.get_defect(programme, serious)["status"] == "closed"
    assert evidence_store.get_defect(programme, minor)["status"] == "open"


def test_the_testing_page_in_bokmal(page, programme, decision_at, actor, failed_run, monkeypatch):
    key, case, run = failed_run
    evidence.record_defect_for_run(programme, actor(TESS), run=run, title="Dose",
                                   severity_vendor=3, severity_clinical=1)  # fmt: skip
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    try:
        at = page(TESS, decision=key)
        assert at.title[0].value == "Testing"
        assert [t.label for t in at.tabs] == [
            "Testtilfeller", "Registrer en kjøring", "Avvik", "Dekning for en bølge",
        ]  # fmt: skip
        assert widget(at.radio, "Resultat").options == ["bestått", "feilet", "blokkert"]
        for tab in ("Testtilfeller", "Avvik", "Dekning for en bølge"):
            at.session_state["testing_tab"] = tab
            ran(at)
        # by its key: the option's label is drawn in the script's language, not this thread's
        at.session_state["coverage_wave"] = "W1"
        ran(at)
    finally:
        i18n.use("en")


def test_a_viewer_reads_the_runs_in_plain_words_and_logs_none(page, failed_run):
    at = page("vera@hemit.no", tab="Log a run")
    assert "Recording a test run" in shown(at.info)
    assert not any(b.label == "Log the run" for b in at.button)
    runs = next(d.value for d in at.dataframe if "What it means" in d.value)
    assert list(runs["Result"]) == ["failed"]
    assert list(runs["What it means"]) == [
        "Failed: testing ran, the decision stays in test until a run passes"
    ]


def test_an_earlier_failed_run_without_a_defect_is_offered_its_defect(page, failed_run):
    key, case, run = failed_run  # failed, and no defect recorded then
    at = page(TESS, decision=key)
    assert f"The latest run, {run} on" in shown(at.caption)
    at = click(at, "Record the defect it found")
    assert widget(at.text_input, "Defect title").value == "Dose rounds to whole mg"
    assert not any(b.label == "Log the run" for b in at.button)  # one question at a time
    widget(at.radio, "Vendor severity").set_value(2)
    widget(at.radio, "Clinical severity").set_value(2)
    at = click(at, "Record the defect")
    assert f"linked to run {run} of {case}" in shown(at.success)
    assert not any(b.label == "Record the defect it found" for b in at.button)


def test_the_run_its_defect_and_the_question_after_a_pass_read_in_bokmal(
    page, programme, decision_at, actor, monkeypatch
):
    key = decision_at("approved")
    evidence.save_test_case(programme, actor(TESS), title="Dosekontroll", kind="acceptance",
                            decisions=[key])  # fmt: skip
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    try:
        at = page(TESS, decision=key)
        assert f"**Testing av {key}**" in shown(at.markdown)
        widget(at.radio, "Resultat").set_value("feilet")  # AppTest picks by the words shown
        at = click(at, "Registrer kjøringen")
        assert "feilet. Nå: " in shown(at.success) and "(Under test)" in shown(at.success)
        assert widget(at.radio, "Alvorlighet (leverandør)").options[0] == "1 kritisk"
        widget(at.radio, "Alvorlighet (leverandør)").set_value("2 alvorlig")
        widget(at.radio, "Alvorlighet (klinisk)").set_value("1 kritisk")
        at = click(at, "Registrer avviket")
        assert "er registrert og knyttet til kjøring" in shown(at.success)
        widget(at.radio, "Resultat").set_value("bestått")
        at = click(at, "Registrer kjøringen")
        assert "1 tilknyttet avvik er fortsatt åpent" in shown(at.markdown)
        answer = next(r for r in at.radio if r.key and r.key.startswith("answer_"))
        assert answer.options == ["Lukk det", "La det stå åpent"]
        answer.set_value("La det stå åpent")
        at = click(at, "Lagre svarene")
        assert "Fortsatt åpne: DEF-0001 (alvorlighet 1)." in shown(at.success)
        assert "kan ikke merkes klar" in shown(at.success)
    finally:
        i18n.use("en")
