"""The approval rule and the stage the evidence gives: pure tests on DecisionFacts, then the
same rule through the services, with its numbers taken from the settings."""

from __future__ import annotations

import pytest

from decisions import admin, evidence, services, store
from decisions.model import ApprovalRule, DecisionFacts, DemoFact, RunFact, VerdictFact
from decisions.store import decisions as decision_store
from decisions.store import reference
from decisions.workflow import approval_progress, derive_stage

DEFAULT = ApprovalRule()
BUILT_AT = "2022-09-01T10:00:00"
DEMO = DemoFact("2022-09-05", attendees=2)


def v(expert, verdict="approve", date="2022-09-10", *, side="hospital", in_domain=True, seq=0):
    return VerdictFact(expert, verdict, date, side, in_domain, seq)


H1, H2, H3 = (v(f"h{i}@stolav.no") for i in (1, 2, 3))
M1, M2 = (v(f"m{i}@kommune.no", side="municipality") for i in (1, 2))


def facts(verdicts=(), *, demos=(DEMO,), runs=None, ready=False, **fields) -> DecisionFacts:
    return DecisionFacts(base_stage=fields.pop("base_stage", "built"),
                         built_at=fields.pop("built_at", BUILT_AT), ready_marked=ready,
                         demos=tuple(demos), verdicts=tuple(verdicts), runs_by_case=runs or {},
                         **fields)  # fmt: skip


# approval_progress ---------------------------------------------------------------------------

CASES = [
    # (verdicts, scope, criticality, rule, met, approvers)
    ([H1], "hospital", "medium", DEFAULT, False, 1),
    ([H1, H2], "hospital", "medium", DEFAULT, True, 2),
    ([M1, M2], "municipality", "high", DEFAULT, True, 2),
    ([H1, H2], "joint", "medium", DEFAULT, False, 2),
    ([M1, M2], "joint", "medium", DEFAULT, False, 2),
    ([H1, M1], "joint", "low", DEFAULT, True, 2),
    ([H1, H2], "joint", "medium", ApprovalRule(joint_needs_both_sides=False), True, 2),
    ([H1, H2], "hospital", "critical", DEFAULT, False, 2),
    ([H1, H2, H3], "hospital", "critical", DEFAULT, True, 3),
    ([H1, H2, H3], "joint", "critical", DEFAULT, False, 3),
    ([H1, H2, M1], "joint", "critical", DEFAULT, True, 3),
    ([H1, v("x@stolav.no", in_domain=False)], "hospital", "medium", DEFAULT, False, 1),
    (
        [H1, v("x@kommune.no", side="municipality", in_domain=False)],
        "joint",
        "medium",
        DEFAULT,
        False,
        1,
    ),  # fmt: skip
    ([H1, H1, H1], "hospital", "medium", DEFAULT, False, 1),
    (
        [H1, H2, v(H2.expert, "changes_requested", "2022-09-11")],
        "hospital",
        "medium",
        DEFAULT,
        False,
        1,
    ),  # fmt: skip
    (
        [H1, v(H2.expert, "changes_requested", "2022-09-09"), H2],
        "hospital",
        "medium",
        DEFAULT,
        True,
        2,
    ),  # fmt: skip
    (
        [H1, v(H2.expert, seq=5), v(H2.expert, "changes_requested", seq=3)],
        "hospital",
        "medium",
        DEFAULT,
        True,
        2,
    ),  # fmt: skip
    (
        [H1, v(H2.expert, seq=3), v(H2.expert, "changes_requested", seq=5)],
        "hospital",
        "medium",
        DEFAULT,
        False,
        1,
    ),  # fmt: skip
    ([H1], "hospital", "medium", ApprovalRule(min_approvers=1), True, 1),
    ([H1, H2], "hospital", "medium", ApprovalRule(min_approvers=3), False, 2),
    ([H1, H2], "hospital", "critical", ApprovalRule(min_approvers_critical=2), True, 2),
    ([H1, H2], "hospital", "high", ApprovalRule(min_approvers_critical=5), True, 2),
]


@pytest.mark.parametrize(("verdicts", "scope", "criticality", "rule", "met", "approvers"), CASES)
def test_approval_progress(verdicts, scope, criticality, rule, met, approvers):
    progress = approval_progress(verdicts, scope, criticality, rule)
    assert (progress.met, progress.approvers) == (met, approvers)
    assert bool(progress.missing) is not met
    given = facts(verdicts, scope=scope, criticality=criticality)
    assert (derive_stage(given, rule) == "approved") is met


@pytest.mark.parametrize(
    ("verdicts", "missing"),
    [
        ([H1], (("approvers", 1), ("side", "municipality"))),
        ([M1, M2], (("side", "hospital"),)),
        ([], (("approvers", 2), ("side", "hospital"), ("side", "municipality"))),
    ],
)
def test_progress_answers_what_is_missing_in_codes(verdicts, missing):
    assert approval_progress(verdicts, "joint", "medium", DEFAULT).missing == missing


def test_sides_are_counted():
    progress = approval_progress([H1, H2, M1], "joint", "critical", DEFAULT)
    assert (progress.hospital_side, progress.municipality_side, progress.needed) == (2, 1, 3)


# derive_stage ---------------------------------------------------------------------------------

LATER = "2022-09-20T09:00:00"  # a new round, started after the changes were requested
PASSED, FAILED = RunFact("2022-09-12", "passed", 1), RunFact("2022-09-12", "failed", 1)

DERIVED = [
    ("built without a demo", facts([], demos=()), "built"),
    ("a demo nobody attended", facts([], demos=[DemoFact("2022-09-05", 0)]), "built"),
    ("a demo of the previous round", facts([], built_at=LATER), "built"),
    ("a demo in the round", facts([]), "demonstrated"),
    ("one approval", facts([H1]), "demonstrated"),
    ("two approvals", facts([H1, H2]), "approved"),
    ("approvals of the previous round",
     facts([H1, H2], built_at=LATER, demos=[DemoFact("2022-09-21", 1)]), "demonstrated"),
    ("changes requested", facts([H1, H2, v(H1.expert, "changes_requested", "2022-09-11")]),
     "in_build"),
    ("changes requested, then approved again",
     facts([H2, v(H1.expert, "changes_requested", "2022-09-09"), H1]), "approved"),
    ("changes requested by someone outside the domain",
     facts([H1, H2, v("x@stolav.no", "changes_requested", in_domain=False)]), "approved"),
    ("changes requested in the previous round",
     facts([v(H1.expert, "changes_requested", "2022-09-11"),
            v(H1.expert, date="2022-09-22"), v(H2.expert, date="2022-09-22")],
           built_at=LATER, demos=[DemoFact("2022-09-21", 1)]), "approved"),
    ("a covering case never run", facts([H1, H2], runs={"TC-1": ()}), "approved"),
    ("a covering case failed", facts([H1, H2], runs={"TC-1": (FAILED,)}), "in_test"),
    ("every covering case passed", facts([H1, H2], runs={"TC-1": (PASSED,)}), "tested"),
    ("one case passed, another never run",
     facts([H1, H2], runs={"TC-1": (PASSED,), "TC-2": ()}), "in_test"),
    ("failed, then passed",
     facts([H1, H2], runs={"TC-1": (FAILED, RunFact("2022-09-13", "passed", 2))}), "tested"),
    ("passed, then failed on the same day",
     facts([H1, H2], runs={"TC-1": (PASSED, RunFact("2022-09-12", "failed", 2))}), "in_test"),
    ("runs of the previous round",
     facts([v(H1.expert, date="2022-09-22"), v(H2.expert, date="2022-09-22")],
           built_at=LATER, demos=[DemoFact("2022-09-21", 1)], runs={"TC-1": (PASSED,)}),
     "approved"),
    ("marked ready while tested", facts([H1, H2], runs={"TC-1": (PASSED,)}, ready=True),
     "ready"),
    ("marked ready, then a run failed",
     facts([H1, H2], runs={"TC-1": (PASSED, RunFact("2022-09-14", "failed", 2))}, ready=True),
     "in_test"),
    ("version 1 without a round start: all evidence counts",
     facts([H1, H2], built_at=None, runs={"TC-1": (PASSED,)}), "tested"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "given", "stage"), DERIVED, ids=[c[0] for c in DERIVED])
def test_derive_stage(what, given, stage):
    assert derive_stage(given, DEFAULT) == stage


@pytest.mark.parametrize("base", ["proposed", "decided", "in_build", "withdrawn"])
def test_hand_set_stages_ignore_evidence(base):
    full = facts([H1, H2], base_stage=base, runs={"TC-1": (PASSED,)}, ready=True)
    assert derive_stage(full, DEFAULT) == base


@pytest.mark.parametrize(
    ("rule", "stage"),
    [
        (DEFAULT, "demonstrated"),
        (ApprovalRule(min_approvers_critical=2), "approved"),
        (ApprovalRule(min_approvers=1, min_approvers_critical=1), "approved"),
        (ApprovalRule(min_approvers=1, min_approvers_critical=4), "demonstrated"),
    ],
)
def test_the_rule_numbers_change_the_stage(rule, stage):
    assert derive_stage(facts([H1, H2], criticality="critical"), rule) == stage


# Through the services ---------------------------------------------------------------------------


def stage(conn, key):
    return decision_store.get_decision(conn, key)["stage"]


def verdict(conn, email, key, kind="approve"):
    person = decision_store.load_actor(conn, email)
    return evidence.record_verdict(conn, person, key, kind, comment="not as decided")


def demo(conn, key, attendees=("hanne@stolav.no",)):
    analyst = decision_store.load_actor(conn, "ana@hemit.no")
    evidence.save_demo(conn, analyst, module="MED-ADM", date=None, decisions=[key],
                       presenter="ana@hemit.no", attendees=list(attendees))  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "approvers", "stages"),
    [
        ({}, ["hanne", "per"], ["demonstrated", "approved"]),
        ({"scope": "joint"}, ["hanne", "per", "ola"], ["demonstrated"] * 2 + ["approved"]),
        ({"scope": "joint"}, ["ola", "hanne"], ["demonstrated", "approved"]),
        ({"criticality": "critical"}, ["hanne", "per", "kari"], ["demonstrated"] * 2 + ["approved"]),
        ({"criticality": "critical", "scope": "joint"}, ["hanne", "per", "kari", "ola"],
         ["demonstrated"] * 3 + ["approved"]),
    ],
)  # fmt: skip
def test_verdicts_move_the_stage_by_the_rule(programme, decision_at, fields, approvers, stages):
    key = decision_at("demonstrated", **fields)
    emails = {e.split("@")[0]: e for e in decision_store.forum_member_emails(programme, "MED-H")}
    emails["ola"] = "ola@trondheim.kommune.no"
    assert [verdict(programme, emails[name], key) for name in approvers] == stages
    assert services.check(programme) == []


def test_a_gp_office_speaks_for_the_municipality_side(programme, decision_at):
    with store.transaction(programme):
        reference.insert_rows(programme, "organizations",
                              [{"code": "GP1", "name": "Legekontor", "kind": "gp_office"}])  # fmt: skip
        reference.insert_rows(programme, "experts", [{"email": "gp@lege.no", "name": "Gp",
                              "organization": "GP1", "allocation_pct": 20}])  # fmt: skip
        reference.insert_rows(
            programme, "expert_domains", [{"expert": "gp@lege.no", "domain": "MED"}]
        )
        reference.insert_rows(
            programme, "expert_roles", [{"expert": "gp@lege.no", "role": "expert"}]
        )
    key = decision_at("demonstrated", scope="joint")
    assert verdict(programme, "hanne@stolav.no", key) == "demonstrated"
    assert verdict(programme, "gp@lege.no", key) == "approved"


def test_changes_requested_starts_a_new_round(programme, decision_at, advance_clock):
    key = decision_at("demonstrated")
    verdict(programme, "hanne@stolav.no", key)
    assert verdict(programme, "per@stolav.no", key, "changes_requested") == "in_build"
    assert decision_store.get_decision(programme, key)["built_at"] is None
    advance_clock()
    analyst = decision_store.load_actor(programme, "ana@hemit.no")
    assert services.set_manual_stage(programme, analyst, key, "mark_built") == "built"
    demo(programme, key)
    assert stage(programme, key) == "demonstrated", "the earlier approval must not count"
    assert verdict(programme, "per@stolav.no", key) == "demonstrated"
    assert verdict(programme, "hanne@stolav.no", key) == "approved"
    stages = [e["to_value"] for e in store.events_for(programme, "decision", key)]
    assert stages[-5:] == ["demonstrated", "in_build", "built", "demonstrated", "approved"]
    assert services.check(programme) == []


def test_a_verdict_dated_before_the_round_is_refused(programme, decision_at, advance_clock):
    key = decision_at("built")
    advance_clock()
    demo(programme, key)
    with pytest.raises(services.WorkflowError, match="before this build round"):
        evidence.record_verdict(programme, decision_store.load_actor(programme, "per@stolav.no"),
                                key, "approve", date="2022-09-01")  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "stages"),
    [
        ({}, ["demonstrated", "approved"]),
        ({"approval.min_approvers": 1}, ["approved", "approved"]),
        ({"approval.min_approvers": 3}, ["demonstrated", "demonstrated"]),
    ],
)
def test_the_rule_comes_from_the_settings(programme, decision_at, settings, stages):
    with store.transaction(programme):
        for name, value in settings.items():
            store.put_setting(programme, name, value)
    assert services.approval_rule(programme).min_approvers == settings.get(
        "approval.min_approvers", 2
    )
    key = decision_at("demonstrated")
    assert [verdict(programme, e, key) for e in ("hanne@stolav.no", "per@stolav.no")] == stages


def test_joint_needs_both_sides_is_a_setting(programme, decision_at):
    with store.transaction(programme):
        store.put_setting(programme, "approval.joint_needs_both_sides", False)
    key = decision_at("demonstrated", scope="joint")
    assert [verdict(programme, e, key) for e in ("hanne@stolav.no", "per@stolav.no")] == [
        "demonstrated",
        "approved",
    ]


def test_changing_the_rule_re_derives_the_stages(programme, decision_at):
    one = decision_at("demonstrated")
    verdict(programme, "hanne@stolav.no", one)
    two = decision_at("approved")
    manager = decision_store.load_actor(programme, "mona@hemit.no")
    looser = ApprovalRule(min_approvers=1)
    assert admin.set_approval_rule(programme, manager, looser, expected=DEFAULT) == {
        ("demonstrated", "approved"): 1
    }
    assert (stage(programme, one), stage(programme, two)) == ("approved", "approved")
    stricter = ApprovalRule(min_approvers=3, min_approvers_critical=3)
    assert admin.set_approval_rule(programme, manager, stricter, expected=looser) == {
        ("approved", "demonstrated"): 2
    }
    assert services.check(programme) == []
