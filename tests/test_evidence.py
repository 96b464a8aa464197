"""Evidence use cases: demos, verdicts, test runs and defects, and the queries behind the
evidence screens (approvals queue, coverage, suspect evidence)."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import evidence, services, words
from decisions.model import NotFound, StaleRecord, WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import queues, reference


def stage(conn, key):
    return decision_store.get_decision(conn, key)["stage"]


def hold_demo(conn, actor, keys, attendees=("hanne@stolav.no",), date=None, **kw):
    return evidence.save_demo(conn, actor("ana@hemit.no"), module="MED-ADM", date=date,
                              decisions=list(keys), presenter="ana@hemit.no",
                              attendees=list(attendees), held=True, **kw)  # fmt: skip


# Demos ------------------------------------------------------------------------------------------


def test_a_scheduled_demo_moves_nothing_until_it_is_recorded_with_attendees(
    programme, actor, decision_at
):
    key = decision_at("built")
    # it starts at midnight: it has started, so it can be recorded as held at any hour
    demo = evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM",
                              date="2022-09-15", decisions=[key], presenter="ana@hemit.no",
                              invitees=["hanne@stolav.no", "per@stolav.no"], held=False,
                              start_time="00:00")  # fmt: skip
    assert stage(programme, key) == "built"
    upcoming = queues.demos(programme, upcoming=True, today="2022-09-15")
    assert upcoming["key"].tolist() == [demo] and upcoming["invited"].tolist() == [2]
    row_version = int(upcoming["row_version"][0])
    evidence.save_demo(programme, actor("ana@hemit.no"), key=demo, row_version=row_version,
                       module="MED-ADM", date="2022-09-15", decisions=[key],
                       presenter="ana@hemit.no", attendees=["hanne@stolav.no"],
                       notes="All good", recording_url="https://video.example/1",
                       held=True)  # fmt: skip
    assert stage(programme, key) == "demonstrated"
    past = queues.demos(programme, upcoming=False, today="2022-09-15")
    assert past["key"].tolist() == [demo] and past["attended"].tolist() == [1]
    with pytest.raises(StaleRecord):
        evidence.save_demo(programme, actor("ana@hemit.no"), key=demo, row_version=row_version,
                           module="MED-ADM", date="2022-09-15", decisions=[key],
                           presenter="ana@hemit.no", attendees=["per@stolav.no"],
                           held=True)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attendees": []}, "at least one attending expert"),
        ({"date": "2022-09-16"}, "in the future"),
        ({"date": "15.09.2022"}, "YYYY-MM-DD"),
        ({"decisions": []}, "at least one decision"),
        ({"decisions": ["NOPE-1"]}, "no decision"),
        ({"module": "LAB-ORD"}, "configures module MED-ADM"),
        ({"presenter": "nobody@x.no"}, "not in the directory"),
        ({"attendees": ["ghost@x.no"]}, "not in the directory"),
        ({"attendees": ["ana@hemit.no", "tess@hemit.no"]}, "attended, but no expert"),
        ({"recording_url": "javascript:alert(1)"}, "https://"),
        ({"notes": "x" * 20_001}, "too long"),
    ],
)
def test_a_held_demo_is_refused_with_a_reason_and_nothing_written(
    programme, actor, decision_at, change, message
):
    key = decision_at("built")
    fields = {"module": "MED-ADM", "date": "2022-09-15", "decisions": [key],
              "presenter": "ana@hemit.no", "attendees": ["hanne@stolav.no"]} | change  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.save_demo(programme, actor("ana@hemit.no"), held=True, **fields)
    assert snapshot(programme) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"date": "2022-09-01"}, "has passed"),
        ({"date": ""}, "date is required"),
        ({"attendees": ["hanne@stolav.no"]}, "once the demo was held"),
        ({"invitees": ["ghost@x.no"]}, "invited experts: not in the directory"),
    ],
)
def test_scheduling_a_demo_is_refused_with_a_reason(programme, actor, decision_at, change, message):
    key = decision_at("built")
    fields = {"module": "MED-ADM", "date": "2022-09-20", "decisions": [key],
              "presenter": "ana@hemit.no"} | change  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.save_demo(programme, actor("ana@hemit.no"), held=False, **fields)
    assert snapshot(programme) == before


@pytest.mark.parametrize(
    ("at_stage", "held", "allowed"),
    [
        ("decided", False, False),
        ("in_build", False, True),
        ("in_build", True, False),
        ("built", True, True),
        ("approved", True, True),
        ("withdrawn", False, False),
    ],
)
def test_a_demo_shows_configuration_that_is_built(
    programme, actor, decision_at, at_stage, held, allowed
):
    key = decision_at(at_stage)
    fields = {"module": "MED-ADM", "decisions": [key], "presenter": "ana@hemit.no",
              "date": "2022-09-15" if held else "2022-09-30",
              "attendees": ["hanne@stolav.no"] if held else []}  # fmt: skip
    if allowed:
        evidence.save_demo(programme, actor("ana@hemit.no"), held=held, **fields)
    else:
        with pytest.raises(WorkflowError, match=f"{key} is"):
            evidence.save_demo(programme, actor("ana@hemit.no"), held=held, **fields)


def test_a_demo_held_before_the_build_round_is_refused(programme, actor, decision_at):
    key = decision_at("built")  # marked built on the clock's day, 2022-09-15
    with pytest.raises(WorkflowError, match="after this demo"):
        hold_demo(programme, actor, [key], date="2022-09-10")


@pytest.mark.parametrize("email", ["hanne@stolav.no", "tess@hemit.no", "vera@hemit.no"])
def test_only_analysts_managers_and_admins_record_demos(programme, actor, decision_at, email):
    key = decision_at("built")
    with pytest.raises(WorkflowError, match="needs the role"):
        evidence.save_demo(programme, actor(email), module="MED-ADM", date=None, decisions=[key],
                           presenter="ana@hemit.no", attendees=["hanne@stolav.no"])  # fmt: skip


def test_demo_lists_filter_by_module_domain_and_organisation(programme, actor, decision_at):
    trd = decision_at("built", scope="municipality", forum="MED-M", organizations=["TRD"])
    everyone = decision_at("built", organizations=["ALL"])
    ana = actor("ana@hemit.no")
    for key in (trd, everyone):
        evidence.save_demo(programme, ana, module="MED-ADM", date="2022-10-01", decisions=[key],
                           presenter="ana@hemit.no", held=False)  # fmt: skip

    def listed(**filters):
        frame = queues.demos(programme, upcoming=True, today="2022-09-15", **filters)
        return sorted(frame["decisions"])

    assert listed() == sorted([trd, everyone])
    assert listed(organization="TRD") == sorted([trd, everyone])
    assert listed(organization="STO") == [everyone]
    assert listed(module="LAB-ORD") == [] and listed(domain="MED") == sorted([trd, everyone])


# Verdicts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "at_stage", "verdict", "comment", "message"),
    [
        ("lab@stolav.no", "demonstrated", "approve", "", "expert of the domain MED"),
        ("ana@hemit.no", "demonstrated", "approve", "", "needs the role expert"),
        ("mona@hemit.no", "demonstrated", "approve", "", "needs the role expert"),
        ("hanne@stolav.no", "built", "approve", "", "decision that is built"),
        ("hanne@stolav.no", "in_build", "approve", "", "decision that is in build"),
        ("hanne@stolav.no", "demonstrated", "changes_requested", "  ", "comment is required"),
        ("hanne@stolav.no", "demonstrated", "maybe", "", "verdict must be one of"),
    ],
)
def test_a_verdict_is_refused_with_a_reason_and_nothing_written(
    programme, actor, decision_at, email, at_stage, verdict, comment, message
):
    key = decision_at(at_stage)
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.record_verdict(programme, actor(email), key, verdict, comment=comment)
    assert snapshot(programme) == before


def test_a_verdict_dated_in_the_future_is_refused(programme, actor, decision_at):
    key = decision_at("demonstrated")
    with pytest.raises(WorkflowError, match="in the future"):
        evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve",
                                date="2022-09-16")  # fmt: skip


def test_the_queue_holds_demonstrated_decisions_of_my_domains_until_i_approve(
    programme, actor, decision_at, advance_clock
):
    key = decision_at("demonstrated")
    decision_at("demonstrated", domain="LAB", module="LAB-ORD", forum="LAB-H")
    assert queues.approvals_queue(programme, "per@stolav.no")["key"].tolist() == [key]
    assert queues.approvals_queue(programme, "hanne@stolav.no")["key"].tolist() == [key]
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    assert queues.approvals_queue(programme, "per@stolav.no").empty
    assert queues.approvals_queue(programme, "hanne@stolav.no")["key"].tolist() == [key]
    # changes requested start a new round: the earlier approval no longer counts
    evidence.record_verdict(programme, actor("hanne@stolav.no"), key, "changes_requested",
                            comment="Wrong dose unit")  # fmt: skip
    assert stage(programme, key) == "in_build"
    advance_clock()
    services.set_manual_stage(programme, actor("ana@hemit.no"), key, "mark_built")
    hold_demo(programme, actor, [key])
    queue = queues.approvals_queue(programme, "per@stolav.no")
    assert queue["key"].tolist() == [key] and queue["my_verdict"].isna().all()


@pytest.mark.parametrize(
    ("scope", "criticality", "approvers", "expected"),
    [
        ("hospital", "medium", [], "0 of 2 approvers; needs 2 more approvers of the domain"),
        ("hospital", "medium", ["hanne@stolav.no"], "needs 1 more approver of the domain"),
        ("hospital", "critical", ["hanne@stolav.no", "per@stolav.no"], "2 of 3 approvers"),
        ("joint", "medium", ["hanne@stolav.no", "per@stolav.no"],
         "needs 1 more approver from the municipality side"),
        ("joint", "medium", ["hanne@stolav.no"], "hospital side 1, municipality side 0"),
    ],
)  # fmt: skip
def test_approval_progress_says_what_is_met_and_what_is_missing(
    programme, actor, decision_at, scope, criticality, approvers, expected
):
    key = decision_at("demonstrated", scope=scope, criticality=criticality)
    for email in approvers:
        evidence.record_verdict(programme, actor(email), key, "approve")
    progress = evidence.approval_status(programme, [key])[key]
    assert not progress.met
    assert expected in words.progress_text(progress, scope)


def test_approval_progress_counts_only_the_current_round(
    programme, actor, decision_at, advance_clock
):
    key = decision_at("approved")
    assert evidence.approval_status(programme, [key])[key].met
    evidence.record_verdict(programme, actor("kari@stolav.no"), key, "changes_requested",
                            comment="Needs a second signature field")  # fmt: skip
    advance_clock()
    services.set_manual_stage(programme, actor("ana@hemit.no"), key, "mark_built")
    progress = evidence.approval_status(programme, [key])[key]
    assert (progress.approvers, progress.met) == (0, False)


def test_attending_experts_give_verdicts_on_every_decision_shown_in_one_pass(
    programme, actor, decision_at
):
    first, second = decision_at("built"), decision_at("built")
    demo = hold_demo(programme, actor, [first, second], attendees=["per@stolav.no"])
    evidence.record_verdict(programme, actor("hanne@stolav.no"), first, "approve")
    stages = evidence.record_demo_verdicts(
        programme, actor("per@stolav.no"), demo,
        {first: ("approve", ""), second: ("changes_requested", "Label is unclear")},
    )  # fmt: skip
    assert stages == {first: "approved", second: "in_build"}
    events = programme.execute(
        "SELECT action, to_value FROM events WHERE entity = 'approval' ORDER BY id DESC LIMIT 2"
    ).fetchall()
    assert sorted(tuple(e) for e in events) == [("approve", first),
                                                ("changes_requested", second)]  # fmt: skip


@pytest.mark.parametrize(
    ("email", "verdicts", "message"),
    [
        ("hanne@stolav.no", "both approve", "only experts who attended"),
        ("per@stolav.no", "one without comment", "comment is required; no verdict was saved"),
        ("per@stolav.no", "a stranger", "did not show"),
        ("per@stolav.no", "none", "at least one decision"),
    ],
)
def test_a_batch_of_verdicts_is_all_or_nothing(
    programme, actor, decision_at, email, verdicts, message
):
    first, second, other = decision_at("built"), decision_at("built"), decision_at("built")
    demo = hold_demo(programme, actor, [first, second], attendees=["per@stolav.no"])
    batch = {
        "both approve": {first: ("approve", ""), second: ("approve", "")},
        "one without comment": {first: ("approve", ""), second: ("changes_requested", "")},
        "a stranger": {first: ("approve", ""), other: ("approve", "")},
        "none": {},
    }[verdicts]
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.record_demo_verdicts(programme, actor(email), demo, batch)
    assert snapshot(programme) == before


def test_demos_awaiting_my_verdicts(programme, actor, decision_at):
    first, second = decision_at("built"), decision_at("built")
    demo = hold_demo(programme, actor, [first, second], attendees=["per@stolav.no"])
    assert queues.demos_attended_awaiting_verdicts(programme, "per@stolav.no")[
        "awaiting"
    ].tolist() == [2]
    evidence.record_verdict(programme, actor("per@stolav.no"), first, "approve")
    awaiting = queues.demos_attended_awaiting_verdicts(programme, "per@stolav.no")
    assert awaiting[["key", "awaiting"]].values.tolist() == [[demo, 1]]
    assert queues.demos_attended_awaiting_verdicts(programme, "hanne@stolav.no").empty


# Test runs and defects --------------------------------------------------------------------------


def test_a_failed_run_opens_its_defect_and_the_decision_shows_as_failing(
    programme, actor, decision_at
):
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    assert queues.never_run_cases(programme, "W1")["key"].tolist() == [case]
    evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case, result="failed",
                             new_defect={"title": "Dose rounds wrongly", "severity_vendor": 3,
                                         "severity_clinical": 1})  # fmt: skip
    assert stage(programme, key) == "in_test"
    failing = queues.failing_decisions(programme, "W1")
    assert failing[["key", "test_case", "result", "defect"]].values.tolist() == [
        [key, case, "failed", "DEF-0001"]
    ]
    assert failing[["severity_vendor", "severity_clinical"]].values.tolist() == [[3, 1]]
    defect = queues.defects(programme, disagreeing=True)
    assert defect[["key", "decision", "test_case", "status"]].values.tolist() == [
        ["DEF-0001", key, case, "open"]
    ]
    assert queues.defect_counts(programme) == {"open": 1, "open_sev1": 1, "open_sev2": 0,
                                               "disagreeing": 1}  # fmt: skip
    evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case, result="passed")
    assert stage(programme, key) == "tested"
    assert queues.failing_decisions(programme, "W1").empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result": "passed", "new_defect": {"title": "x", "severity_vendor": 1,
                                              "severity_clinical": 1}}, "passed run opens no"),
        ({"new_defect": {"title": "x", "severity_vendor": 5, "severity_clinical": 1}},
         "severity vendor must be 1, 2, 3 or 4"),
        ({"new_defect": {"title": " ", "severity_vendor": 2, "severity_clinical": 2}},
         "defect title is required"),
        ({"defect": "DEF-9999"}, "does not exist"),
        ({"date": "2022-10-01"}, "in the future"),
        ({"result": "skipped"}, "result must be one of"),
        ({"tester": "ghost@x.no"}, "not in the directory"),
        ({"test_case": "TC-9999"}, "no test case"),
    ],
)  # fmt: skip
def test_a_test_run_is_refused_with_a_reason_and_nothing_written(
    programme, actor, decision_at, change, message
):
    key = decision_at("approved")
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Dose check",
                                   kind="acceptance", decisions=[key])  # fmt: skip
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=message):
        evidence.record_test_run(programme, actor("tess@hemit.no"),
                                 **({"test_case": case, "result": "failed"} | change))  # fmt: skip
    assert snapshot(programme) == before


def test_a_run_of_a_test_case_covering_no_decision_is_refused(programme, actor):
    with services.store.transaction(programme):
        programme.execute("INSERT INTO test_cases (key, title, kind) VALUES ('TC-0001', 'Loose', "
                          "'application')")  # fmt: skip
    with pytest.raises(WorkflowError, match="covers no decision"):
        evidence.record_test_run(programme, actor("tess@hemit.no"), test_case="TC-0001",
                                 result="passed")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"decisions": []}, "at least one decision"),
        ({"kind": "smoke"}, "kind must be one of"),
        ({"title": ""}, "title is required"),
    ],
)
def test_a_test_case_is_refused_with_a_reason(programme, actor, decision_at, change, message):
    key = decision_at("approved")
    with pytest.raises(WorkflowError, match=message):
        evidence.save_test_case(programme, actor("tess@hemit.no"),
                                **({"title": "T", "kind": "application", "decisions": [key]}
                                   | change))  # fmt: skip


def test_a_withdrawn_decision_cannot_be_covered(programme, actor, decision_at):
    with pytest.raises(WorkflowError, match="withdrawn"):
        evidence.save_test_case(programme, actor("tess@hemit.no"), title="T", kind="application",
                                decisions=[decision_at("withdrawn")])  # fmt: skip


def test_a_defect_keeps_both_ratings_and_refuses_a_close_before_it_opened(programme, actor):
    key = evidence.save_defect(programme, actor("tess@hemit.no"), title="Slow list",
                               severity_vendor=4, severity_clinical=2, opened="2022-09-01")  # fmt: skip
    row = queues.defects(programme).iloc[0]
    assert (row["key"], row["severity_vendor"], row["severity_clinical"], row["worst"]) == (
        key, 4, 2, 2)  # fmt: skip
    with pytest.raises(WorkflowError, match="before opened"):
        evidence.save_defect(programme, actor("tess@hemit.no"), key=key, title="Slow list",
                             severity_vendor=4, severity_clinical=2, status="closed",
                             opened="2022-09-01", closed="2022-08-01")  # fmt: skip
    with pytest.raises(WorkflowError, match="needs the role"):
        evidence.save_defect(programme, actor("hanne@stolav.no"), title="x", severity_vendor=1,
                             severity_clinical=1)  # fmt: skip


def test_coverage_lists_approved_decisions_without_a_test_case_in_the_wave(
    programme, actor, decision_at
):
    with services.store.transaction(programme):
        reference.insert_rows(
            programme,
            "organizations",
            [{"code": "ALE", "name": "Ålesund sjukehus", "kind": "hospital"}],
        )
    in_wave = decision_at("approved", criticality="critical")
    elsewhere = decision_at("approved", organizations=["ALE"])
    everywhere = decision_at("approved", organizations=["ALL"])
    decision_at("demonstrated")
    assert sorted(queues.uncovered_decisions(programme, "W1")["key"]) == sorted(
        [in_wave, everywhere]
    )
    assert sorted(queues.uncovered_decisions(programme, None)["key"]) == sorted(
        [in_wave, elsewhere, everywhere]
    )
    assert queues.coverage_counts(programme, "W1") == {"approved_or_later": 2, "uncovered": 2}
    evidence.save_test_case(programme, actor("tess@hemit.no"), title="T", kind="integrated",
                            decisions=[in_wave])  # fmt: skip
    assert queues.uncovered_decisions(programme, "W1")["key"].tolist() == [everywhere]


# Suspect evidence -------------------------------------------------------------------------------


def test_a_revision_makes_earlier_evidence_suspect_until_it_is_redone(
    programme, actor, decision_at, advance_clock
):
    key = decision_at("tested")
    assert queues.suspect_evidence(programme).empty
    advance_clock()
    services.revise(programme, actor("hanne@stolav.no"), key, decision_text="Three nurses sign.",
                    reason="New regulation")  # fmt: skip
    row = queues.suspect_evidence(programme).iloc[0]
    assert (row["key"], row["version"], row["stage"]) == (key, 2, "decided")
    assert (row["suspect_demos"], row["suspect_verdicts"], row["suspect_runs"]) == (1, 2, 1)
    assert (row["new_demos"], row["new_verdicts"], row["new_runs"]) == (0, 0, 0)
    advance_clock()
    ana = actor("ana@hemit.no")
    services.set_manual_stage(programme, ana, key, "start_build")
    services.set_manual_stage(programme, ana, key, "mark_built")
    hold_demo(programme, actor, [key])
    assert queues.suspect_evidence(programme).iloc[0]["new_demos"] == 1


def test_a_demo_for_an_unknown_key_with_a_row_version_is_not_found(programme, actor, decision_at):
    key = decision_at("built")
    with pytest.raises(NotFound):
        hold_demo(programme, actor, [key], key="DEMO-0404", row_version=1)


def test_the_severity_matrix_counts_each_pair_of_ratings(programme, actor):
    from decisions.charts.evidence import severity_matrix_chart

    tess = actor("tess@hemit.no")
    for vendor, clinical in ((3, 1), (3, 1), (2, 2)):
        evidence.save_defect(programme, tess, title="x", severity_vendor=vendor,
                             severity_clinical=clinical)  # fmt: skip
    pairs = queues.severity_pairs(programme)
    assert pairs.values.tolist() == [[2, 2, 1], [3, 1, 2]]
    spec = severity_matrix_chart(pairs).to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rect"
