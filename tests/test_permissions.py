"""The permission table, walked role by action against the use cases: every action outside a
decision's workflow steps (those are walked in test_workflow_rules.py) is taken by one person
of each role; the ones the spec allows succeed, the others are refused with a reason and
write nothing. Also: no module outside the table spells a role name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DECISION_FIELDS, snapshot
from test_workflow_rules import EXPECTED as WORKFLOW_EXPECTED
from test_workflow_rules import ROLE_PEOPLE as PERSON  # the expert sits in MED-H, domain MED

from decisions import admin, evidence, permissions, planning, services
from decisions import io as transfer_io
from decisions.model import ROLES, ApprovalRule, WorkflowError
from decisions.permissions import PERMISSIONS, Target

# Written from SPEC.md and the issues, not from permissions.PERMISSIONS.
MANAGERS = {"manager", "admin"}
EXPECTED = {
    "propose": {"expert", "analyst", "manager", "admin"},
    "verdict_for_other": {"admin"},
    "record_demo": {"analyst", "manager", "admin"},
    "attend_demo": {"expert"},
    "save_test_case": {"tester", "analyst", "admin"},
    "record_test_run": {"tester", "analyst", "admin"},
    "save_defect": {"tester", "analyst", "manager", "admin"},
    "replan_wave": MANAGERS,
    "save_criterion": MANAGERS,
    "record_measurement": MANAGERS,  # and the criterion's owner, whatever their role
    "manage_people": MANAGERS,
    "set_roles": MANAGERS,  # another person's, never their own
    "grant_admin": {"admin"},
    "manage_forums": MANAGERS,
    "set_approval_rule": MANAGERS,
    "import": MANAGERS,
    "export": MANAGERS,
    "backup": MANAGERS,
}


def _propose(conn, actor, _setup):
    services.create_decision(conn, actor, DECISION_FIELDS)


def _verdict_for_other(conn, actor, setup):
    evidence.record_verdict(conn, actor, setup["demonstrated"], "approve", expert="per@stolav.no")


def _record_demo(conn, actor, setup):
    evidence.save_demo(conn, actor, module="MED-ADM", date=None, decisions=[setup["built"]],
                       presenter="ana@hemit.no", attendees=["per@stolav.no"])  # fmt: skip


def _attend_demo(conn, actor, setup):
    """The person attends a demo that an admin records: it counts only with an expert."""
    admin_actor = setup["actor"]("admin@hemit.no")
    evidence.save_demo(conn, admin_actor, module="MED-ADM", date=None,
                       decisions=[setup["built"]], presenter="ana@hemit.no",
                       attendees=[actor.email])  # fmt: skip


def _save_test_case(conn, actor, setup):
    evidence.save_test_case(conn, actor, title="Infusion check", kind="application",
                            decisions=[setup["approved"]])  # fmt: skip


def _record_test_run(conn, actor, setup):
    evidence.record_test_run(conn, actor, test_case=setup["case"], result="passed")


def _save_defect(conn, actor, _setup):
    evidence.save_defect(conn, actor, title="Wrong dose unit", severity_vendor=3,
                         severity_clinical=2)  # fmt: skip


def _replan_wave(conn, actor, _setup):
    planning.replan_wave(conn, actor, "W1", go_live="2023-01-14", reason="vendor delay")


def _save_criterion(conn, actor, _setup):
    planning.save_criterion(conn, actor, "W1", "C1", {"threshold": 90})


def _record_measurement(conn, actor, _setup):
    planning.record_measurement(conn, actor, "W1", "R7", value=50)


def _manage_people(conn, actor, _setup):
    admin.save_expert(conn, actor, email="new@stolav.no", name="New Person", organization="STO",
                      domains=["MED"], roles=["expert"], allocation_pct=20)  # fmt: skip


def _set_roles(conn, actor, _setup):
    admin.save_expert(conn, actor, email="kari@stolav.no", name="Kari", organization="STO",
                      domains=["MED"], roles=["expert", "tester"], allocation_pct=20,
                      forums=["MED-H"], row_version=1)  # fmt: skip


def _grant_admin(conn, actor, _setup):
    admin.save_expert(conn, actor, email="new@stolav.no", name="New Person", organization="STO",
                      domains=[], roles=["admin"], allocation_pct=20)  # fmt: skip


def _manage_forums(conn, actor, _setup):
    admin.save_forum(conn, actor, code="MED-X", name="Medication extra group", level=1,
                     scope="hospital", domains=["MED"], members=[])  # fmt: skip


def _set_approval_rule(conn, actor, _setup):
    admin.set_approval_rule(conn, actor, ApprovalRule(min_approvers=1, min_approvers_critical=3),
                            expected=ApprovalRule())  # fmt: skip


def _import(conn, actor, _setup):
    source = transfer_io.Source("organizations.csv", b"code,name,kind\nX,Y,hospital\n")
    result = transfer_io.import_sources(conn, [source], actor)
    assert result.ok, result


def _export(conn, actor, _setup):
    assert transfer_io.export_kind(conn, "organizations", actor=actor)


def _backup(conn, actor, setup):
    transfer_io.backup(conn, setup["tmp"] / f"{actor.email}.db", actor=actor)


CALLS = {
    "propose": _propose,
    "verdict_for_other": _verdict_for_other,
    "record_demo": _record_demo,
    "attend_demo": _attend_demo,
    "save_test_case": _save_test_case,
    "record_test_run": _record_test_run,
    "save_defect": _save_defect,
    "replan_wave": _replan_wave,
    "save_criterion": _save_criterion,
    "record_measurement": _record_measurement,
    "manage_people": _manage_people,
    "set_roles": _set_roles,
    "grant_admin": _grant_admin,
    "manage_forums": _manage_forums,
    "set_approval_rule": _set_approval_rule,
    "import": _import,
    "export": _export,
    "backup": _backup,
}


def test_the_tables_name_every_action_of_the_permission_table():
    assert set(EXPECTED) | set(WORKFLOW_EXPECTED) == set(PERMISSIONS)
    assert set(CALLS) == set(EXPECTED)


@pytest.fixture
def setup(programme, actor, decision_at, tmp_path):
    case_for = decision_at("approved")
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                                   kind="application", decisions=[case_for])  # fmt: skip
    return {
        "built": decision_at("built"),
        "demonstrated": decision_at("demonstrated"),
        "approved": decision_at("approved"),
        "case": case,
        "actor": actor,
        "tmp": tmp_path,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_role_may_take_exactly_the_actions_the_table_gives_it(
    programme, actor, setup, action, role
):
    person = actor(PERSON[role])
    assert permissions.allowed(person, action) == (role in EXPECTED[action])
    if role in EXPECTED[action]:
        CALLS[action](programme, person, setup)
        return
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="needs|but no expert"):
        CALLS[action](programme, person, setup)
    assert snapshot(programme) == before


@pytest.mark.parametrize("role", ["expert", "viewer", "tester"])
def test_the_owner_of_a_reported_criterion_records_its_measurement_whatever_their_role(
    programme, actor, role
):
    mona = actor("mona@hemit.no")
    planning.save_criterion(programme, mona, "W1", "R7", {"owner": PERSON[role]})
    owner = actor(PERSON[role])
    assert permissions.allowed(owner, "record_measurement", Target(owner=PERSON[role]))
    planning.record_measurement(programme, owner, "W1", "R7", value=50)


def test_a_refusal_names_what_is_missing(actor):
    expert = actor("hanne@stolav.no")
    assert permissions.refusal(expert, "decide", Target(forum="LAB-H")) == (
        "Record the decision needs a member of the forum LAB-H"
    )
    assert permissions.refusal(expert, "approve", Target(domain="LAB")) == (
        "Approve needs an expert of the domain LAB"
    )
    assert permissions.refusal(expert, "withdraw") == "Withdraw needs the role manager or admin"
    assert permissions.refusal(None, "export") == "Exporting the programme needs a signed-in person"
    assert permissions.refusal(expert, "no_such_thing") == "unknown action 'no_such_thing'"


ROOT = Path(__file__).resolve().parents[1]
# A role name where it decides something: a role test, a role lookup or filter, SQL on the role.
_ROLE = r"""["'](expert|analyst|tester|manager|admin|viewer)["']"""
ROLE_USE = re.compile(
    r"""(\.has\(|by_role\[|with_role\(|\brole\s*==?\s*)[^)\]]*"""
    + _ROLE
    + r"|"
    + _ROLE
    + r"""\s+(not\s+)?in\s+[\w.\[\]"']*roles\b"""
)
# The vocabulary (model), the permission table itself, and the schema's CHECK constraint.
MAY_SPELL_ROLES = {"decisions/model.py", "decisions/permissions.py", "decisions/store/schema.py"}


def spelled_roles(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ROLE_USE.search(line)
    ]


def test_no_module_outside_the_permission_table_spells_a_role_name():
    sources = [*ROOT.glob("decisions/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "ui.py",
               ROOT / "streamlit_app.py"]  # fmt: skip
    found = [
        hit
        for path in sources
        if str(path.relative_to(ROOT)) not in MAY_SPELL_ROLES
        for hit in spelled_roles(path)
    ]
    assert found == []


def test_the_readme_shows_the_permission_table_as_it_is():
    readme = (ROOT / "README.md").read_text()
    for action, permission in PERMISSIONS.items():
        assert f"| `{action}` | {permission.label} | {permissions.who_may(action)} |" in readme


# The menu and the landing page ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [("expert", "my_work"), ("analyst", "my_work"), ("tester", "my_work"),
     ("manager", "overview"), ("admin", "overview"), ("viewer", "overview")],
)  # fmt: skip
def test_each_role_lands_where_its_work_is(programme, actor, role, lands_on):
    assert permissions.landing_page(actor(PERSON[role])) == lands_on


def test_the_menu_lists_a_screen_only_for_those_who_may_use_it(programme, actor):
    menus = {
        role: {page for page in ("new_decision", "plan", "data", "people", "overview", "my_work")
               if permissions.in_menu(actor(email), page)}
        for role, email in PERSON.items()
    }  # fmt: skip
    everyone = {"overview", "my_work"}
    assert menus["expert"] == everyone | {"new_decision"}
    assert menus["analyst"] == everyone | {"new_decision"}
    assert menus["tester"] == everyone
    assert menus["viewer"] == everyone
    assert menus["manager"] == everyone | {"new_decision", "plan", "data", "people"}
    # a screen's entry follows its action's grants, not a list of roles of its own
    for page, action in permissions.PAGE_ACTIONS.items():
        for email in PERSON.values():
            person = actor(email)
            assert permissions.in_menu(person, page) == permissions.may_act_anywhere(person, action)
