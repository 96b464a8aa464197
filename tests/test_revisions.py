"""Revisions and suspect evidence: new decision text after `decided` makes version N+1, back
at `decided`, and the earlier demos, verdicts and test runs count for nothing until a new
build round brings new evidence."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import evidence, services, store
from decisions.model import STAGES, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.workflow import counts_from

AFTER_DECIDED = STAGES[1:]


@pytest.fixture
def person(programme):
    return lambda email: decision_store.load_actor(programme, email)


def get(conn, key):
    return decision_store.get_decision(conn, key)


def revise(conn, person, key, text="Three nurses sign.", **kw):
    kw.setdefault("reason", "the audit asked for a third signature")
    return services.revise(conn, person("hanne@stolav.no"), key, decision_text=text, **kw)


def counted_evidence(conn, key) -> dict[str, int]:
    """How many demos, verdicts and runs of the decision count for its current version."""
    start = get(conn, key)["version_started_at"]
    evidence = {
        "demos": evidence_store.demos_of_decision(conn, key),
        "verdicts": evidence_store.approvals_of_decision(conn, key),
        "runs": [r for r in evidence_store.test_runs_of_decision(conn, key) if r["run"]],
    }
    return {kind: sum(counts_from(e["date"], start) for e in found)
            for kind, found in evidence.items()}  # fmt: skip


def test_revising_an_approved_decision(programme, decision_at, person, advance_clock):
    key = decision_at("approved")
    before = get(programme, key)
    assert counted_evidence(programme, key) == {"demos": 1, "verdicts": 2, "runs": 0}
    advance_clock()
    assert revise(programme, person, key) == 2
    after = get(programme, key)
    assert (after["version"], after["stage"], after["base_stage"]) == (2, "decided", "decided")
    assert after["decision"] == "Three nurses sign." and after["built_at"] is None
    assert after["version_started_at"][:10] == "2022-09-16"
    assert after["row_version"] == before["row_version"] + 1
    versions = decision_store.decision_versions(programme, key)
    assert [(v["version"], v["decision_text"]) for v in versions] == [
        (1, "As decided."),
        (2, "Three nurses sign."),
    ]
    assert versions[0]["started_at"] is None and versions[1]["started_at"]
    events = store.events_for(programme, "decision", key)[-2:]
    assert [(e["action"], e["from_value"], e["to_value"]) for e in events] == [
        ("revised", "1", "2"),
        ("stage", "approved", "decided"),
    ]
    assert events[0]["reason"] == "the audit asked for a third signature"
    assert counted_evidence(programme, key) == {"demos": 0, "verdicts": 0, "runs": 0}
    assert services.check(programme) == []


def test_old_evidence_does_not_carry_a_new_round(programme, decision_at, person, advance_clock):
    key = decision_at("tested")
    advance_clock()
    revise(programme, person, key)
    for action, stage in (("start_build", "in_build"), ("mark_built", "built")):
        assert services.set_manual_stage(programme, person("ana@hemit.no"), key, action) == stage
    # the old demo, both old approvals and the old passed run are on record, and count for nothing
    evidence.save_demo(programme, person("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=[key], presenter="ana@hemit.no",
                       attendees=["kari@stolav.no"])  # fmt: skip
    assert get(programme, key)["stage"] == "demonstrated"
    assert evidence.record_verdict(programme, person("hanne@stolav.no"), key, "approve") == (
        "demonstrated"
    )
    assert evidence.record_verdict(programme, person("per@stolav.no"), key, "approve") == (
        "approved"
    )
    assert counted_evidence(programme, key) == {"demos": 1, "verdicts": 2, "runs": 0}
    case = evidence_store.test_runs_of_decision(programme, key)[0]["test_case"]
    evidence.record_test_run(programme, person("tess@hemit.no"), test_case=case, result="passed")
    assert get(programme, key)["stage"] == "tested"
    assert counted_evidence(programme, key)["runs"] == 1
    assert services.check(programme) == []


@pytest.mark.parametrize("stage", AFTER_DECIDED)
def test_revision_from_any_stage_after_decided(programme, decision_at, person, stage):
    key = decision_at(stage)
    assert revise(programme, person, key) == 2
    assert get(programme, key)["stage"] == "decided"
    actions = [e["action"] for e in store.events_for(programme, "decision", key)]
    assert actions[-1] == ("revised" if stage == "decided" else "stage")
    assert services.check(programme) == []


def test_revisions_count_up(programme, decision_at, person, advance_clock):
    key = decision_at("decided")
    for version, text in ((2, "Three nurses sign."), (3, "Two nurses and a pharmacist sign.")):
        advance_clock()
        assert revise(programme, person, key, text) == version
    versions = decision_store.decision_versions(programme, key)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["started_at"] < versions[2]["started_at"]
    assert get(programme, key)["version_started_at"] == versions[2]["started_at"]


def test_a_new_rationale_alone_is_a_revision(programme, decision_at, person):
    key = decision_at("built")
    assert revise(programme, person, key, "As decided.", rationale="A new reason.") == 2
    assert get(programme, key)["rationale"] == "A new reason."


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("As decided.", "why not", "unchanged"),
        ("Three nurses sign.", "  ", "reason is required"),
        ("", "why not", "decision is required"),
    ],
)
def test_a_revision_without_new_text_or_reason_is_refused(
    programme, decision_at, person, text, reason, message
):
    key = decision_at("approved")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        revise(programme, person, key, text, reason=reason)
    assert snapshot(programme) == before


def test_version_1_evidence_all_counts(programme, decision_at):
    key = decision_at("tested")
    decision = get(programme, key)
    assert (decision["version"], decision["version_started_at"]) == (1, None)
    assert counted_evidence(programme, key) == {"demos": 1, "verdicts": 2, "runs": 1}


def test_a_revised_decision_of_a_stale_form_is_refused(programme, decision_at, person):
    key = decision_at("approved")
    seen = get(programme, key)["row_version"]
    services.edit_decision(programme, person("ana@hemit.no"), key, {"title": "Renamed"})
    with pytest.raises(services.StaleRecord):
        revise(programme, person, key, row_version=seen)
    assert get(programme, key)["version"] == 1
