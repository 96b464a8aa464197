"""The people a record names (a demo's presenter and attendees, a run's tester, a
measurement's reporter) are held to what the pages offer: an active person with a role that
may take the act; a refused record writes nothing."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import admin, evidence, planning
from decisions.model import WorkflowError


def deactivate(conn, actor, email, roles=("expert",), domains=("MED",)):
    admin.save_expert(conn, actor("admin@hemit.no"), email=email, name="Gone",
                      organization="STO", domains=list(domains), roles=list(roles),
                      allocation_pct=10, active=False,
                      row_version=conn.execute("SELECT row_version FROM experts WHERE email = ?",
                                               (email,)).fetchone()[0])  # fmt: skip


def hold(conn, actor, key, **change):
    fields = {"module": "MED-ADM", "date": "2022-09-15", "decisions": [key],
              "presenter": "ana@hemit.no", "attendees": ["hanne@stolav.no"]} | change  # fmt: skip
    return evidence.save_demo(conn, actor("ana@hemit.no"), held=True, **fields)


@pytest.mark.parametrize(
    ("presenter", "message"),
    [
        ("hanne@stolav.no", "presenter: hanne@stolav.no may not be named: Recording a demo needs"),
        ("tess@hemit.no", "presenter: tess@hemit.no may not be named"),
        ("vera@hemit.no", "presenter: vera@hemit.no may not be named"),
    ],
)
def test_a_presenter_holds_a_role_that_records_demos(
    programme, actor, decision_at, presenter, message
):
    key = decision_at("built")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        hold(programme, actor, key, presenter=presenter)
    assert snapshot(programme) == before


def test_an_inactive_presenter_is_refused(programme, actor, decision_at):
    key = decision_at("built")
    deactivate(programme, actor, "mona@hemit.no", roles=["manager"], domains=[])
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="presenter: mona@hemit.no is inactive"):
        hold(programme, actor, key, presenter="mona@hemit.no")
    assert snapshot(programme) == before


def test_an_inactive_expert_does_not_count_as_an_attendee(programme, actor, decision_at):
    key = decision_at("built")
    deactivate(programme, actor, "per@stolav.no")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="no expert"):
        hold(programme, actor, key, attendees=["per@stolav.no"])
    assert snapshot(programme) == before
    hold(programme, actor, key, attendees=["per@stolav.no", "hanne@stolav.no"])


def test_a_tester_holds_a_role_that_records_test_runs(programme, actor, decision_at):
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                                   kind="acceptance", decisions=[decision_at("approved")])  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="tester: hanne@stolav.no may not be named"):
        evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case,
                                 result="passed", tester="hanne@stolav.no")  # fmt: skip
    assert snapshot(programme) == before
    evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case,
                             result="passed", tester="ana@hemit.no")  # fmt: skip


def test_a_reporter_is_the_criterion_owner_or_a_manager(programme, actor):
    mona = actor("mona@hemit.no")
    planning.save_criterion(programme, mona, "W1", "R7", {"owner": "kari@stolav.no"})
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="reported by: hanne@stolav.no may not be named"):
        planning.record_measurement(programme, mona, "W1", "R7", value=50,
                                    reported_by="hanne@stolav.no")  # fmt: skip
    assert snapshot(programme) == before
    planning.record_measurement(programme, mona, "W1", "R7", value=50, reported_by="kari@stolav.no")
    planning.record_measurement(programme, actor("kari@stolav.no"), "W1", "R7", value=60)
