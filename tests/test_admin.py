"""People and settings: experts, forums and the approval rule, changed through decisions.admin."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import admin, evidence, services, store
from decisions.model import ApprovalRule, StaleRecord, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import people as people_store

NEW_EXPERT = {
    "email": "Siri@Trondheim.Kommune.no",
    "name": "Siri Å. Østby",
    "organization": "TRD",
    "domains": ["MED"],
    "roles": ["expert"],
    "allocation_pct": 40,
}


def stage(conn, key):
    return decision_store.get_decision(conn, key)["stage"]


def last_events(conn, n):
    return [dict(r) for r in conn.execute(
        "SELECT entity, entity_key, action, from_value, to_value FROM events "
        "ORDER BY id DESC LIMIT ?", (n,))][::-1]  # fmt: skip


# Experts ----------------------------------------------------------------------------------------


def test_a_manager_adds_an_expert_who_joins_the_forums_of_their_domains(programme, actor):
    email = admin.save_expert(programme, actor("mona@hemit.no"), **NEW_EXPERT)
    assert email == "siri@trondheim.kommune.no"
    siri = people_store.get_expert(programme, email)
    assert (siri["name"], siri["organization"], siri["allocation_pct"], siri["active"]) == (
        "Siri Å. Østby", "TRD", 40, 1)  # fmt: skip
    assert siri["forums"] == ["MED-M"]  # the level-1 forums of MED on her side (municipal)
    assert last_events(programme, 1)[0]["action"] == "created"
    assert decision_store.load_actor(programme, email).side == "municipality"


def test_editing_an_expert_logs_each_changed_field(programme, actor):
    email = admin.save_expert(programme, actor("mona@hemit.no"), **NEW_EXPERT)
    admin.save_expert(programme, actor("mona@hemit.no"), **(NEW_EXPERT | {
        "allocation_pct": 60, "forums": ["FBG"], "active": False}), row_version=1)  # fmt: skip
    assert [(e["action"], e["from_value"], e["to_value"]) for e in last_events(programme, 3)] == [
        ("edited:active", "1", "0"),
        ("edited:allocation_pct", "40", "60"),
        ("edited:forums", "MED-M", "FBG"),
    ]
    assert decision_store.load_actor(programme, email) is None  # inactive: cannot sign in
    with pytest.raises(StaleRecord):
        admin.save_expert(programme, actor("mona@hemit.no"), **NEW_EXPERT, row_version=1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "siri"}, "not an email address"),
        ({"name": " "}, "name is required"),
        ({"organization": "XXX"}, "organization: not in the list of organizations: XXX"),
        ({"domains": ["MED", "NOPE"]}, "domains: not in the list of domains: NOPE"),
        ({"roles": []}, "at least one role"),
        ({"roles": ["boss"]}, "roles must be one of"),
        ({"allocation_pct": 0}, "from 1 to 100"),
        ({"allocation_pct": 101}, "from 1 to 100"),
        ({"allocation_pct": "half"}, "whole percentage"),
        ({"forums": ["NOPE"]}, "forums: not in the list of forums"),
        ({"email": "hanne@stolav.no"}, "in the directory already"),
        ({"row_version": 1}, "is not in the directory"),
        ({"roles": ["admin"]}, "admin role needs the role admin"),
    ],
)
def test_an_expert_change_is_refused_with_a_reason_and_nothing_written(
    programme, actor, change, message
):
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        admin.save_expert(programme, actor("mona@hemit.no"), **(NEW_EXPERT | change))
    assert snapshot(programme) == before


@pytest.mark.parametrize("email", ["hanne@stolav.no", "ana@hemit.no", "tess@hemit.no",
                                   "vera@hemit.no"])  # fmt: skip
def test_only_managers_and_admins_change_people_and_settings(programme, actor, email):
    who = actor(email)
    with pytest.raises(WorkflowError, match="needs the role manager or admin"):
        admin.save_expert(programme, who, **NEW_EXPERT)
    with pytest.raises(WorkflowError, match="needs the role manager or admin"):
        admin.save_forum(programme, who, code="X", name="X", level=1, scope="hospital",
                         domains=[], members=[])  # fmt: skip
    with pytest.raises(WorkflowError, match="needs the role manager or admin"):
        admin.set_approval_rule(programme, who, ApprovalRule(1, 3, True), expected=ApprovalRule())


def test_the_last_active_admin_stays(programme, actor):
    boss = actor("admin@hemit.no")
    fields = {"email": "admin@hemit.no", "name": "Admin", "organization": "STO", "domains": [],
              "allocation_pct": 50, "row_version": 1}  # fmt: skip
    with pytest.raises(WorkflowError, match="last active admin"):
        admin.save_expert(programme, boss, **fields, roles=["manager"])
    with pytest.raises(WorkflowError, match="last active admin"):
        admin.save_expert(programme, boss, **fields, roles=["admin"], active=False)
    with pytest.raises(WorkflowError, match="admin role needs the role admin"):
        admin.save_expert(programme, actor("mona@hemit.no"), **fields, roles=["manager"])


def test_moving_an_approver_out_of_the_domain_takes_their_approval_back(
    programme, actor, decision_at
):
    key = decision_at("approved")
    admin.save_expert(programme, actor("mona@hemit.no"), email="per@stolav.no", name="Per",
                      organization="STO", domains=["LAB"], roles=["expert"], allocation_pct=50,
                      row_version=1)  # fmt: skip
    assert stage(programme, key) == "demonstrated"
    assert last_events(programme, 1)[0] | {} == {
        "entity": "decision", "entity_key": key, "action": "stage",
        "from_value": "approved", "to_value": "demonstrated"}  # fmt: skip
    assert services.check(programme) == []


# Forums -----------------------------------------------------------------------------------------


def test_a_forum_is_added_and_its_members_changed(programme, actor):
    mona = actor("mona@hemit.no")
    admin.save_forum(programme, mona, code="lab-m", name="Lab municipal group", level=1,
                     scope="municipality", domains=["LAB"],
                     members=["Ola@Trondheim.Kommune.no"])  # fmt: skip
    forum = people_store.get_forum(programme, "LAB-M")
    assert (forum["level"], forum["scope"], forum["domains"], forum["members"]) == (
        1, "municipality", ["LAB"], ["ola@trondheim.kommune.no"])  # fmt: skip
    assert "LAB-M" in decision_store.load_actor(programme, "ola@trondheim.kommune.no").forums
    admin.save_forum(programme, mona, code="LAB-M", name="Lab municipal group", level=1,
                     scope="municipality", domains=["LAB"], members=["lab@stolav.no"],
                     row_version=1)  # fmt: skip
    assert last_events(programme, 1)[0]["action"] == "edited:members"
    frame = people_store.forums(programme)
    assert frame.set_index("code").loc["LAB-M", "members"] == "lab@stolav.no"
    with pytest.raises(StaleRecord):
        admin.save_forum(programme, mona, code="LAB-M", name="Lab municipal group", level=2,
                         scope="municipality", domains=[], members=[], row_version=1)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "lab m!"}, "capital letters"),
        ({"name": ""}, "name is required"),
        ({"name": "Laboratory group"}, "taken by forum"),
        ({"level": 4}, "level must be 1, 2 or 3"),
        ({"scope": "regional"}, "scope must be one of"),
        ({"domains": ["XX"]}, "not in the list of domains"),
        ({"members": ["ghost@x.no"]}, "members: not in the directory"),
        ({"code": "MED-H"}, "exists already"),
    ],
)
def test_a_forum_change_is_refused_with_a_reason_and_nothing_written(
    programme, actor, change, message
):
    fields = {"code": "LAB-M", "name": "Lab municipal group", "level": 1,
              "scope": "municipality", "domains": ["LAB"], "members": []} | change  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        admin.save_forum(programme, actor("admin@hemit.no"), **fields)
    assert snapshot(programme) == before


# The approval rule ------------------------------------------------------------------------------


def test_a_stricter_rule_takes_approvals_back_and_a_looser_one_grants_them(
    programme, actor, decision_at
):
    approved = decision_at("approved")  # two approvers
    ready = decision_at("ready")
    one = decision_at("demonstrated")
    evidence.record_verdict(programme, actor("hanne@stolav.no"), one, "approve")
    mona = actor("mona@hemit.no")
    stricter = ApprovalRule(min_approvers=3, min_approvers_critical=3)
    assert admin.rule_effect(programme, stricter) == {
        "moves": {("approved", "demonstrated"): 1, ("ready", "demonstrated"): 1},
        "ready_held": 1,
    }
    moves = admin.set_approval_rule(programme, mona, stricter, expected=ApprovalRule())
    assert moves == {("approved", "demonstrated"): 1, ("ready", "demonstrated"): 1}
    assert [stage(programme, k) for k in (approved, ready, one)] == ["demonstrated"] * 3
    assert store.get_settings(programme)["approval.min_approvers"] == 3
    assert services.check(programme) == []
    looser = ApprovalRule(min_approvers=1, min_approvers_critical=3)
    moves = admin.set_approval_rule(programme, mona, looser, expected=stricter)
    assert moves == {("demonstrated", "approved"): 2, ("demonstrated", "ready"): 1}
    assert stage(programme, ready) == "ready"  # the ready mark survived the stricter rule
    assert services.check(programme) == []
    settings_events = programme.execute(
        "SELECT entity_key, from_value, to_value FROM events WHERE entity = 'setting' ORDER BY id"
    ).fetchall()
    assert [tuple(e) for e in settings_events] == [
        ("approval.min_approvers", "2", "3"), ("approval.min_approvers", "3", "1")]  # fmt: skip


def test_joint_decisions_follow_the_both_sides_setting(programme, actor, decision_at):
    key = decision_at("demonstrated", scope="joint")
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(programme, actor(email), key, "approve")
    assert stage(programme, key) == "demonstrated"
    rule = ApprovalRule(joint_needs_both_sides=False)
    admin.set_approval_rule(programme, actor("admin@hemit.no"), rule, expected=ApprovalRule())
    assert stage(programme, key) == "approved"


@pytest.mark.parametrize(
    ("numbers", "expected", "message"),
    [
        ((0, 3, True), ApprovalRule(), "from 1 to 10"),
        ((2, 11, True), ApprovalRule(), "from 1 to 10"),
        ((3, 2, True), ApprovalRule(), "critical must be at least"),
        ((2, 3, True), ApprovalRule(), "unchanged"),
        ((1, 3, True), ApprovalRule(min_approvers=5), "changed by someone else"),
    ],
)
def test_an_approval_rule_change_is_refused_with_a_reason_and_nothing_written(
    programme, actor, decision_at, numbers, expected, message
):
    decision_at("approved")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        admin.set_approval_rule(programme, actor("mona@hemit.no"), ApprovalRule(*numbers),
                                expected=expected)  # fmt: skip
    assert snapshot(programme) == before
