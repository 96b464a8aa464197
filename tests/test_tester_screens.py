"""Issue 12 for testers: a run is logged from the decision or the test case, a failed run's
defect is recorded in one step prefilled from the run, and a pass with open linked defects
asks, defect by defect, whether to close or keep it; the testing page reads in bokmål."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import evidence, services, store
from decisions.model import StaleRecord, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store

TESS = "tess@hemit.no"


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
