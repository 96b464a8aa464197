"""The workflow rules, exhaustively: every stage x action x role is allowed or refused as the
spec says, in the pure rule and in the services, and a refused action writes nothing."""

from __future__ import annotations

import shutil

import pytest
from conftest import build_small_programme, drive_decision, snapshot

from decisions import evidence, services, store
from decisions.model import ALL_STAGES, DERIVED_STAGES, ROLES, VERDICTS, Actor, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.workflow import (
    ACTIONS,
    action_refusal,
    allowed_actions,
    check_action,
    open_despite_a_pass,
    verdicts_open,
)

# Written from SPEC.md section 3, not from workflow.ACTIONS: (stages it is taken from, roles).
LIVE = {"proposed", "decided", "in_build", "built", "demonstrated", "approved", "in_test",
        "tested", "ready"}  # fmt: skip
AFTER_DECIDED = LIVE - {"proposed"}
FORUM_PEOPLE = {"expert", "manager", "admin"}
EXPECTED = {
    "decide": ({"proposed"}, FORUM_PEOPLE),
    "escalate": ({"proposed"}, FORUM_PEOPLE),
    "start_build": ({"decided"}, {"analyst", "admin"}),
    "mark_built": ({"in_build"}, {"analyst", "admin"}),
    "approve": ({"demonstrated", "approved"}, {"expert"}),
    "request_changes": ({"demonstrated", "approved"}, {"expert"}),
    "mark_ready": ({"tested"}, {"manager", "admin"}),
    "revise": (AFTER_DECIDED, FORUM_PEOPLE),
    "edit": (LIVE, {"expert", "analyst", "manager", "admin"}),
    "withdraw": (LIVE, {"manager", "admin"}),
}
NEEDS_MEMBERSHIP = {
    "decide": "forum",
    "escalate": "forum",
    "revise": "forum",
    "edit": "forum",
    "approve": "domain",
    "request_changes": "domain",
}


def allowed(action: str, stage: str, role: str) -> bool:
    stages, roles = EXPECTED[action]
    return stage in stages and role in roles


def insider(role: str) -> Actor:
    """Someone with one role who sits in forum MED-H and works in domain MED."""
    return Actor(f"{role}@x.no", role, frozenset({role}), frozenset({"MED"}), frozenset({"MED-H"}))


def outsider(role: str) -> Actor:
    return Actor(f"{role}@x.no", role, frozenset({role}), frozenset({"LAB"}), frozenset({"LAB-H"}))


def test_the_expected_table_names_every_action():
    assert set(EXPECTED) == set(ACTIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("stage", ALL_STAGES)
def test_each_stage_action_and_role_is_allowed_or_refused(stage, action, role):
    refusal = action_refusal(action, stage, insider(role), forum="MED-H", domain="MED")
    if allowed(action, stage, role):
        assert refusal is None
    else:
        assert refusal, "a refusal says why"
        if stage not in EXPECTED[action][0]:
            assert stage.replace("_", " ") in refusal
        else:
            assert "role" in refusal


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("stage", ALL_STAGES)
def test_allowed_actions_lists_exactly_the_allowed_ones_in_workflow_order(stage, role):
    expected = [a for a in ACTIONS if allowed(a, stage, role)]
    assert allowed_actions(stage, insider(role), forum="MED-H", domain="MED") == expected


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_experts_act_only_in_their_own_forum_or_domain(action):
    stage = sorted(EXPECTED[action][0])[0]
    refusal = action_refusal(action, stage, outsider("expert"), forum="MED-H", domain="MED")
    where = NEEDS_MEMBERSHIP.get(action)
    if where is None:
        assert bool(refusal) == ("expert" not in EXPECTED[action][1])
    else:
        assert refusal and ("MED-H" if where == "forum" else "MED") in refusal


@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize("action", ["decide", "escalate", "revise"])
def test_management_acts_for_any_forum(action, role):
    stage = sorted(EXPECTED[action][0])[0]
    assert action_refusal(action, stage, outsider(role), forum="MED-H", domain="MED") is None


def test_a_second_role_does_not_lift_the_membership_rule():
    expert_and_analyst = Actor("x@x.no", "X", frozenset({"expert", "analyst"}))
    assert action_refusal("decide", "proposed", expert_and_analyst, forum="MED-H")
    assert action_refusal("start_build", "decided", expert_and_analyst, forum="MED-H") is None


def test_an_unknown_action_is_refused():
    assert "unknown action" in action_refusal("approve_by_hand", "built", insider("admin"))
    with pytest.raises(WorkflowError, match="unknown action"):
        check_action("approve_by_hand", "built", insider("admin"))


# Written from SPEC.md: an approval approves; a request for changes sends the decision back.
VERDICT_TAKES = {"approve": "approve", "changes_requested": "request_changes"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("stage", ALL_STAGES)
def test_the_verdicts_open_are_those_whose_action_is_allowed(stage, role):
    may = allowed_actions(stage, insider(role), forum="MED-H", domain="MED")
    expected = [v for v in VERDICTS if allowed(VERDICT_TAKES[v], stage, role)]
    assert verdicts_open(may) == expected


@pytest.mark.parametrize("verdict", VERDICTS)
def test_a_verdict_is_refused_as_its_action_is(verdict):
    expert = insider("expert")
    with pytest.raises(WorkflowError) as refused:
        evidence.check_verdict({"stage": "built", "domain": "MED", "built_at": None},
                               expert.email, expert, verdict, "why", "2022-09-15")  # fmt: skip
    taken = action_refusal(VERDICT_TAKES[verdict], "built", expert, domain="MED")
    assert str(refused.value) == taken


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_no_one_sets_a_derived_stage_by_hand(action):
    assert ACTIONS[action].to_stage not in DERIVED_STAGES


# The same table through the services: refused means nothing written ---------------------------

ROLE_PEOPLE = {
    "expert": "hanne@stolav.no",
    "analyst": "ana@hemit.no",
    "tester": "tess@hemit.no",
    "manager": "mona@hemit.no",
    "admin": "admin@hemit.no",
    "viewer": "vera@hemit.no",
}


def take(conn, person: Actor, action: str, key: str) -> None:
    """Take `action` on decision `key` through the service that does it."""
    if action == "decide":
        services.decide(conn, person, key, decision_text="Two nurses sign.",
                        decided_by=["hanne@stolav.no"])  # fmt: skip
    elif action == "escalate":
        services.escalate(conn, person, key, to_forum="FBG", reason="affects both sides")
    elif action in ("approve", "request_changes"):
        verdict = "approve" if action == "approve" else "changes_requested"
        evidence.record_verdict(conn, person, key, verdict, comment="needs a second look")
    elif action == "revise":
        services.revise(conn, person, key, decision_text="Three nurses sign.", reason="audit")
    elif action == "edit":
        services.edit_decision(conn, person, key, {"title": "A clearer title"})
    else:
        services.set_manual_stage(conn, person, key, action, reason="no longer needed")


def repeats_a_verdict(conn, person: Actor, action: str, key: str) -> bool:
    """Whether `action` is the verdict `person` has already given on `key` in this round."""
    verdict = {"approve": "approve", "request_changes": "changes_requested"}.get(action)
    latest = evidence_store.latest_verdict_of(conn, key, person.email)
    return verdict is not None and latest is not None and latest["verdict"] == verdict


@pytest.fixture(scope="session")
def staged_template(tmp_path_factory):
    """A programme file with one decision at each stage (built once, copied per test)."""
    path = tmp_path_factory.mktemp("staged") / "staged.db"
    conn = store.connect(path)
    build_small_programme(conn)
    keys = {stage: drive_decision(conn, stage) for stage in ALL_STAGES}
    conn.close()
    return path, keys


@pytest.fixture
def staged(staged_template, tmp_path):
    template, keys = staged_template
    path = tmp_path / "staged.db"
    shutil.copy(template, path)
    conn = store.connect(path)
    yield conn, keys
    conn.close()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_services_allow_and_refuse_as_the_table_says(staged, action, role):
    conn, keys = staged
    person = decision_store.load_actor(conn, ROLE_PEOPLE[role])
    for stage, key in keys.items():
        before = snapshot(conn)
        if allowed(action, stage, role) and repeats_a_verdict(conn, person, action, key):
            take(conn, person, action, key)  # a second click: allowed, and nothing stored
            assert snapshot(conn) == before, (stage, "a repeated verdict was stored")
        elif allowed(action, stage, role):
            take(conn, person, action, key)
            assert len(snapshot(conn)["events"]) > len(before["events"]), (stage, "no event")
        else:
            with pytest.raises(WorkflowError):
                take(conn, person, action, key)
            assert snapshot(conn) == before, f"refused {action} at {stage} wrote something"
    assert services.check(conn) == []


@pytest.mark.parametrize("action", sorted(NEEDS_MEMBERSHIP))
def test_services_refuse_an_expert_from_another_forum_or_domain(staged, action):
    conn, keys = staged
    stage = sorted(EXPECTED[action][0])[0]
    before = snapshot(conn)
    with pytest.raises(WorkflowError, match="MED"):
        take(conn, decision_store.load_actor(conn, "lab@stolav.no"), action, keys[stage])
    assert snapshot(conn) == before


# Transitions with conditions: withdrawal, escalation, ready -----------------------------------


def person(conn, email):
    return decision_store.load_actor(conn, email)


@pytest.mark.parametrize("stage", sorted(LIVE))
def test_withdrawal_from_any_stage_with_a_reason(programme, decision_at, stage):
    key = decision_at(stage)
    manager = person(programme, "mona@hemit.no")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="reason is required"):
        services.set_manual_stage(programme, manager, key, "withdraw", reason=" ")
    assert snapshot(programme) == before
    services.set_manual_stage(programme, manager, key, "withdraw", reason="duplicate of MED-7")
    decision = decision_store.get_decision(programme, key)
    assert (decision["stage"], decision["base_stage"]) == ("withdrawn", "withdrawn")
    assert decision["withdrawn_reason"] == "duplicate of MED-7"
    last = store.events_for(programme, "decision", key)[-1]
    assert (last["action"], last["from_value"], last["to_value"], last["reason"]) == (
        "stage", stage, "withdrawn", "duplicate of MED-7")  # fmt: skip
    assert services.check(programme) == []


def test_new_evidence_does_not_bring_a_withdrawn_decision_back(programme, decision_at):
    key = decision_at("in_test")
    services.set_manual_stage(programme, person(programme, "admin@hemit.no"), key, "withdraw",
                              reason="the module was dropped")  # fmt: skip
    case = evidence_store.test_runs_of_decision(programme, key)[0]["test_case"]
    tester = person(programme, "tess@hemit.no")
    evidence.record_test_run(programme, tester, test_case=case, result="passed")
    assert decision_store.get_decision(programme, key)["stage"] == "withdrawn"
    assert services.check(programme) == []


def test_escalation_goes_up_with_a_reason_and_is_an_event(programme, decision_at):
    key = decision_at("proposed")
    services.escalate(programme, person(programme, "hanne@stolav.no"), key, to_forum="FBG",
                      reason="affects the municipalities too")  # fmt: skip
    decision = decision_store.get_decision(programme, key)
    assert (decision["forum"], decision["stage"]) == ("FBG", "proposed")
    last = store.events_for(programme, "decision", key)[-1]
    assert (last["action"], last["from_value"], last["to_value"], last["reason"]) == (
        "escalated", "MED-H", "FBG", "affects the municipalities too")  # fmt: skip
    with pytest.raises(WorkflowError, match="member of the forum FBG"):
        services.escalate(programme, person(programme, "hanne@stolav.no"), key,
                          to_forum="STEER", reason="no agreement")  # fmt: skip
    services.escalate(programme, person(programme, "mona@hemit.no"), key, to_forum="STEER",
                      reason="no agreement")  # fmt: skip
    assert decision_store.get_decision(programme, key)["forum"] == "STEER"
    assert services.check(programme) == []


@pytest.mark.parametrize(
    ("start", "to_forum", "reason", "message"),
    [
        ("MED-H", "MED-M", "sideways", "escalation goes up"),
        ("MED-H", "MED-H", "same forum", "escalation goes up"),
        ("FBG", "MED-H", "down again", "escalation goes up"),
        ("MED-H", "NOPE", "unknown", "not in the list of forums"),
        ("MED-H", "FBG", "", "reason is required"),
    ],
)
def test_escalation_refused(programme, decision_at, start, to_forum, reason, message):
    key = decision_at("proposed", forum=start)
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        services.escalate(programme, person(programme, "mona@hemit.no"), key,
                          to_forum=to_forum, reason=reason)  # fmt: skip
    assert snapshot(programme) == before


@pytest.mark.parametrize(
    ("vendor", "clinical", "status", "link", "refused"),
    [
        (1, 4, "open", "decision", True),
        (4, 2, "open", "decision", True),
        (2, 2, "open", "test_case", True),
        (3, 3, "open", "decision", False),
        (1, 1, "fixed", "decision", False),
        (1, 1, "closed", "test_case", False),
        (2, 1, "deferred", "decision", False),
    ],
)
def test_mark_ready_is_refused_with_an_open_severe_defect(
    programme, decision_at, vendor, clinical, status, link, refused
):
    key = decision_at("tested")
    case = evidence_store.test_runs_of_decision(programme, key)[0]["test_case"]
    defect = evidence.save_defect(programme, person(programme, "tess@hemit.no"),
                                  title="Second signature not required", severity_vendor=vendor,
                                  severity_clinical=clinical, status=status,
                                  **{link: key if link == "decision" else case})  # fmt: skip
    manager = person(programme, "mona@hemit.no")
    before = snapshot(programme)
    if refused:
        with pytest.raises(WorkflowError, match=defect):
            services.set_manual_stage(programme, manager, key, "mark_ready")
        assert snapshot(programme) == before
    else:
        assert services.set_manual_stage(programme, manager, key, "mark_ready") == "ready"
    assert services.check(programme) == []


@pytest.mark.parametrize(
    "runs, expected",
    [
        ([{"result": "passed", "note": ""}], ["DEF-1"]),
        ([{"result": "failed", "note": ""}, {"result": "passed", "note": ""}], ["DEF-1"]),
        ([{"result": "passed", "note": "from an earlier build round"}], []),  # does not count
        ([{"result": "failed", "note": ""}], []),
        ([], []),
    ],
)
def test_open_defects_put_a_counted_pass_in_doubt(runs, expected):
    defects = [{"key": "DEF-1", "status": "open"}, {"key": "DEF-2", "status": "fixed"}]
    assert open_despite_a_pass(runs, defects) == expected


@pytest.mark.parametrize(
    "result, defect, expected",
    [("failed", None, True), ("blocked", None, True), ("failed", "DEF-1", False),
     ("passed", None, False)],
)  # fmt: skip
def test_a_run_that_found_a_problem_needs_a_defect(result, defect, expected):
    assert evidence.needs_a_defect({"result": result, "defect": defect}) is expected
