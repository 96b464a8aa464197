"""A decision's whole journey through the services, from proposal to production."""

from decisions import evidence, services
from decisions.store import decisions as decision_store


def stage(conn, key):
    return decision_store.get_decision(conn, key)["stage"]


def propose(conn, actor, **overrides):
    fields = {"title": "Double-check of high-risk infusions", "domain": "MED",
              "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
              "organizations": ["STO"], "criticality": "high"} | overrides  # fmt: skip
    return services.create_decision(conn, actor("hanne@stolav.no"), fields)


def test_a_decision_goes_from_question_to_production(programme, actor):
    key = propose(programme, actor)
    assert key == "MED-0001" and stage(programme, key) == "proposed"
    services.decide(programme, actor("hanne@stolav.no"), key, decision_text="Two nurses sign.",
                    decided_by=["hanne@stolav.no", "per@stolav.no"])  # fmt: skip
    assert stage(programme, key) == "decided"
    services.set_manual_stage(programme, actor("ana@hemit.no"), key, "start_build")
    services.set_manual_stage(programme, actor("ana@hemit.no"), key, "mark_built")
    assert stage(programme, key) == "built"
    evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM", date=None,
                       decisions=[key], presenter="ana@hemit.no",
                       attendees=["hanne@stolav.no", "per@stolav.no"])  # fmt: skip
    assert stage(programme, key) == "demonstrated"
    evidence.record_verdict(programme, actor("hanne@stolav.no"), key, "approve")
    assert stage(programme, key) == "demonstrated"
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    assert stage(programme, key) == "approved"
    case = evidence.save_test_case(programme, actor("tess@hemit.no"), title="Sign twice",
                                   kind="application", decisions=[key])  # fmt: skip
    evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case, result="failed")
    assert stage(programme, key) == "in_test"
    evidence.record_test_run(programme, actor("tess@hemit.no"), test_case=case, result="passed")
    assert stage(programme, key) == "tested"
    services.set_manual_stage(programme, actor("mona@hemit.no"), key, "mark_ready")
    assert stage(programme, key) == "ready"
    assert services.check(programme) == []
