"""Changes that must not bypass the workflow's intent: evidence dated later than now, a rule
field edited after the approvals are in, an approval rule changed and changed back, and two
people saving the same go-live criterion or wave from forms opened at the same time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conftest import snapshot

from decisions import evidence, services
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store

MORNING = dt.datetime(2022, 9, 15, 10, 0, 0)


def stage(conn, key: str) -> str:
    return decision_store.get_decision(conn, key)["stage"]


# Evidence is never dated later than now ---------------------------------------------------------


def test_a_verdict_stamped_later_today_is_refused_as_in_the_future(programme, actor, decision_at):
    with time_machine.travel(MORNING, tick=False):
        key = decision_at("demonstrated")
        current = services.now(programme)
        later_today = current[:10] + "T23:59:00"
        assert later_today > current
        before = snapshot(programme)
        with pytest.raises(WorkflowError, match="in the future"):
            evidence.record_verdict(programme, actor("hanne@stolav.no"), key, "approve",
                                    date=later_today)  # fmt: skip
        assert snapshot(programme) == before


def test_a_bare_date_of_today_means_now_and_an_earlier_time_today_is_kept(programme):
    with time_machine.travel(MORNING, tick=False):
        current = services.now(programme)
        assert services.evidence_date(programme, current[:10], "date") == current
        assert services.evidence_date(programme, dt.date(2022, 9, 15), "date") == current
        assert (
            services.evidence_date(programme, "2022-09-15T08:30", "date") == "2022-09-15T08:30:00"
        )
        assert services.evidence_date(programme, "2022-09-14", "date") == "2022-09-14"
        with pytest.raises(WorkflowError, match="in the future"):
            services.evidence_date(programme, dt.datetime(2022, 9, 15, 10, 5), "date")
        with pytest.raises(WorkflowError, match="in the future"):
            services.evidence_date(programme, "2022-09-16", "date")


# Two people saving the same criterion or wave from forms opened at the same time -------------


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    from test_readiness import build_known_programme

    from decisions import store

    keys = build_known_programme(programme)
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme, keys


def test_a_criterion_form_opened_before_another_managers_save_is_refused(app_db):
    from test_pages_programme import by_key, open_page, texts

    from decisions.store import analytics

    conn, _ = app_db
    first = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    second = open_page("admin@hemit.no", "pages/readiness.py", wave="W1")
    for at in (first, second):
        by_key(at, "readiness_records").set_value("C4N").run()
    first.text_input(key="criterion_W1_C4N_reason").input("Acceptance cycle in October")
    first.date_input(key="criterion_W1_C4N_until").set_value(dt.date(2022, 10, 31))
    first.button(key="criterion_W1_C4N_save").click().run()
    assert "Criterion C4N saved." in texts(first)
    saved = analytics.get_criterion(conn, "W1", "C4N")
    before = snapshot(conn)
    second.number_input(key="criterion_W1_C4N_threshold").set_value(1.0)
    second.button(key="criterion_W1_C4N_save").click().run()
    assert not second.exception, second.exception
    assert "Criterion W1:C4N was changed by someone else" in texts(second)
    assert snapshot(conn) == before
    assert analytics.get_criterion(conn, "W1", "C4N")["waiver_reason"] == saved["waiver_reason"]
    # reloaded, the form shows the waiver and a save goes through
    second.number_input(key="criterion_W1_C4N_threshold").set_value(1.0)
    second.button(key="criterion_W1_C4N_save").click().run()
    assert "Criterion C4N saved." in texts(second)


def test_a_stored_criterion_edited_in_two_sessions_keeps_the_first_save(app_db, actor):
    from test_pages_programme import by_key, open_page, texts

    from decisions import planning
    from decisions.store import analytics

    conn, _ = app_db
    planning.save_criterion(conn, actor("mona@hemit.no"), "W1", "C4N", {"threshold": 0})
    first = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    second = open_page("admin@hemit.no", "pages/readiness.py", wave="W1")
    for at in (first, second):
        by_key(at, "readiness_records").set_value("C4N").run()
    first.text_input(key="criterion_W1_C4N_reason").input("Acceptance cycle in October")
    first.date_input(key="criterion_W1_C4N_until").set_value(dt.date(2022, 10, 31))
    first.button(key="criterion_W1_C4N_save").click().run()
    assert "Criterion C4N saved." in texts(first)
    second.text_input(key="criterion_W1_C4N_owner").input("kari@stolav.no")
    second.button(key="criterion_W1_C4N_save").click().run()
    assert "changed by someone else" in texts(second)
    stored = analytics.get_criterion(conn, "W1", "C4N")
    assert (stored["waiver_reason"], stored["owner"]) == ("Acceptance cycle in October", None)


def test_a_replan_form_opened_before_another_managers_replan_is_refused(app_db):
    from test_pages_programme import by_key, open_page, texts

    from decisions.store import analytics

    conn, _ = app_db
    first = open_page("mona@hemit.no", "pages/plan.py")
    second = open_page("admin@hemit.no", "pages/plan.py")
    by_key(first, "replan-0_date_W1").set_value(dt.date(2023, 5, 13))
    by_key(first, "replan-0_reason").input("Build not ready")
    next(b for b in first.button if b.label == "Re-plan").click()
    first.run()
    assert "re-planned to 13 May 2023" in texts(first)
    before = snapshot(conn)
    by_key(second, "replan-0_date_W1").set_value(dt.date(2023, 1, 14))
    by_key(second, "replan-0_reason").input("Move it to January")
    next(b for b in second.button if b.label == "Re-plan").click()
    second.run()
    assert not second.exception, second.exception
    assert "Wave W1 was changed by someone else since you opened it; nothing" in texts(second)
    assert snapshot(conn) == before
    assert analytics.get_wave(conn, "W1")["go_live"] == "2023-05-13"


# Changing the approval rule and changing it back puts every decision where it was --------------


def test_a_rule_changed_and_changed_back_puts_every_decision_where_it_was(
    programme, actor, decision_at
):
    from decisions import admin
    from decisions.model import ApprovalRule

    keys = [decision_at(s) for s in ("demonstrated", "approved", "tested", "ready", "ready")]
    keys.append(decision_at("ready", criticality="critical"))
    before = {k: stage(programme, k) for k in keys}
    mona = actor("mona@hemit.no")
    stricter = ApprovalRule(min_approvers=3, min_approvers_critical=3)
    effect = admin.rule_effect(programme, stricter)
    assert effect["moves"] == {("approved", "demonstrated"): 1, ("tested", "demonstrated"): 1,
                               ("ready", "demonstrated"): 2}  # fmt: skip
    assert effect["ready_held"] == 2
    admin.set_approval_rule(programme, mona, stricter, expected=ApprovalRule())
    assert [stage(programme, k) for k in keys] == ["demonstrated"] * 5 + ["ready"]
    assert services.check(programme) == []
    admin.set_approval_rule(programme, mona, ApprovalRule(), expected=stricter)
    assert {k: stage(programme, k) for k in keys} == before
    assert services.check(programme) == []


def test_a_ready_mark_kept_below_tested_is_dropped_when_a_test_run_fails(
    programme, actor, decision_at
):
    from decisions import admin
    from decisions.model import ApprovalRule

    key = decision_at("ready")
    mona, tess = actor("mona@hemit.no"), actor("tess@hemit.no")
    stricter = ApprovalRule(min_approvers=3, min_approvers_critical=3)
    admin.set_approval_rule(programme, mona, stricter, expected=ApprovalRule())
    case = programme.execute(
        "SELECT test_case FROM test_case_decisions WHERE decision = ?", (key,)
    ).fetchone()[0]
    evidence.record_test_run(programme, tess, test_case=case, result="failed")
    evidence.record_test_run(programme, tess, test_case=case, result="passed")
    admin.set_approval_rule(programme, mona, ApprovalRule(), expected=stricter)
    assert stage(programme, key) == "tested"  # the mark predates a failing run: give it again
    assert services.check(programme) == []


@pytest.fixture
def people_page(programme, db_path):
    from test_pages_evidence import app as app_fixture

    yield from app_fixture.__wrapped__(programme, db_path)


def test_the_rule_form_previews_then_asks_to_confirm_and_back_again_restores_ready(
    programme, decision_at, people_page
):
    from test_pages_evidence import submit, texts, widget

    from decisions.model import ApprovalRule

    ready = decision_at("ready")
    at = people_page("people", "mona@hemit.no", tab="Approval rule")
    assert not [b for b in at.button if b.label == "Change the rule"]  # a preview first
    widget(at.number_input, "Approvers needed").set_value(3)
    submit(at, "Preview the effect")
    assert "1 from Ready for production to Demonstrated" in texts(at.warning)
    assert "keeps its ready mark" in texts(at.info)
    assert services.approval_rule(programme) == ApprovalRule()  # nothing changed yet
    submit(at, "Change the rule")
    assert services.approval_rule(programme).min_approvers == 3
    assert stage(programme, ready) == "demonstrated"
    assert not [b for b in at.button if b.label == "Change the rule"]  # asks again next time
    widget(at.number_input, "Approvers needed").set_value(2)
    submit(at, "Preview the effect")
    assert "1 from Demonstrated to Ready for production" in texts(at.warning)
    submit(at, "Change the rule")
    assert stage(programme, ready) == "ready"
    assert services.check(programme) == []


# The fields the approval rule reads, edited after built ---------------------------------------

RULE_EDITS = [
    ({"criticality": "critical"}, {"criticality": "high"}, ["hanne", "per"]),
    ({"scope": "joint"}, {"scope": "hospital"}, ["hanne", "per"]),
]


def approve(conn, actor, key, *names):
    for name in names:
        email = "ola@trondheim.kommune.no" if name == "ola" else f"{name}@stolav.no"
        evidence.record_verdict(conn, actor(email), key, "approve")


def edit_events(conn, key) -> list[tuple]:
    return [tuple(r) for r in conn.execute(
        "SELECT action, from_value, to_value, reason FROM events WHERE entity = 'decision' "
        "AND entity_key = ? AND action LIKE 'edited:%' ORDER BY id", (key,))]  # fmt: skip


@pytest.mark.parametrize(("made", "edit", "approvers"), RULE_EDITS)
def test_lowering_the_approval_bar_after_the_verdicts_does_not_approve(
    programme, actor, decision_at, made, edit, approvers
):
    key = decision_at("demonstrated", **made)
    approve(programme, actor, key, *approvers)
    assert stage(programme, key) == "demonstrated"
    ana = actor("ana@hemit.no")
    services.edit_decision(programme, ana, key, edit, reason="classified again by the forum")
    assert stage(programme, key) == "demonstrated"  # kept: the edit raises nothing by itself
    assert services.check(programme) == []
    [(field, old, new, why)] = edit_events(programme, key)
    assert (field, why) == (f"edited:{next(iter(edit))}", "classified again by the forum")
    approve(programme, actor, key, "kari")  # new evidence after the edit raises it
    assert stage(programme, key) == "approved"
    assert services.check(programme) == []


def test_a_verdict_given_again_after_the_edit_counts(programme, actor, decision_at):
    key = decision_at("demonstrated", criticality="critical")
    approve(programme, actor, key, "hanne", "per")
    services.edit_decision(programme, actor("ana@hemit.no"), key, {"criticality": "high"},
                           reason="not critical after all")  # fmt: skip
    approve(programme, actor, key, "hanne")
    assert stage(programme, key) == "approved"
    assert services.check(programme) == []


@pytest.mark.parametrize(
    "edit",
    [{"criticality": "high"}, {"scope": "joint"}, {"organizations": ["STO", "TRD"], "scope": "joint"},
     {"organizations": ["ALL"]}],
)  # fmt: skip
def test_a_rule_field_edited_after_built_needs_a_reason(programme, actor, decision_at, edit):
    key = decision_at("built", criticality="critical")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="give the reason"):
        services.edit_decision(programme, actor("ana@hemit.no"), key, edit)
    assert snapshot(programme) == before
    with pytest.raises(WorkflowError, match="give the reason"):
        services.edit_decision(programme, actor("ana@hemit.no"), key, edit, reason="  ")
    assert snapshot(programme) == before
    changed = services.edit_decision(programme, actor("ana@hemit.no"), key, edit,
                                     reason="the forum said so")  # fmt: skip
    assert next(iter(edit)) in changed
    assert {e[3] for e in edit_events(programme, key)} == {"the forum said so"}


def test_other_fields_and_earlier_stages_need_no_reason(programme, actor, decision_at):
    built = decision_at("built")
    services.edit_decision(programme, actor("ana@hemit.no"), built, {"title": "Clearer"})
    decided = decision_at("decided")
    services.edit_decision(programme, actor("ana@hemit.no"), decided, {"criticality": "low"})
    assert decision_store.get_decision(programme, decided)["criticality"] == "low"


def test_an_edit_may_lower_the_stage_but_not_raise_it_back(programme, actor, decision_at):
    key = decision_at("ready")
    ana = actor("ana@hemit.no")
    services.edit_decision(programme, ana, key, {"criticality": "critical"}, reason="audit")
    assert stage(programme, key) == "demonstrated"
    services.edit_decision(programme, ana, key, {"criticality": "medium"}, reason="undo")
    assert stage(programme, key) == "demonstrated"
    assert services.check(programme) == []
    approve(programme, actor, key, "kari")  # a verdict after the edits: ready as it was
    assert stage(programme, key) == "ready"
    assert services.check(programme) == []


def test_a_held_stage_survives_an_approval_rule_change_and_back(programme, actor, decision_at):
    from decisions import admin
    from decisions.model import ApprovalRule

    key = decision_at("demonstrated", criticality="critical")
    approve(programme, actor, key, "hanne", "per")
    services.edit_decision(programme, actor("ana@hemit.no"), key, {"criticality": "high"},
                           reason="not critical")  # fmt: skip
    mona = actor("mona@hemit.no")
    looser = ApprovalRule(min_approvers=1)
    admin.set_approval_rule(programme, mona, looser, expected=ApprovalRule())
    assert stage(programme, key) == "demonstrated"
    admin.set_approval_rule(programme, mona, ApprovalRule(), expected=looser)
    assert stage(programme, key) == "demonstrated"
    assert services.check(programme) == []


def test_a_new_build_round_ends_the_hold(programme, actor, decision_at):
    key = decision_at("demonstrated", criticality="critical")
    approve(programme, actor, key, "hanne", "per")
    ana = actor("ana@hemit.no")
    services.edit_decision(programme, ana, key, {"criticality": "high"}, reason="not critical")
    evidence.record_verdict(programme, actor("kari@stolav.no"), key, "changes_requested",
                            comment="wrong default")  # fmt: skip
    assert stage(programme, key) == "in_build"
    services.set_manual_stage(programme, ana, key, "mark_built")
    evidence.save_demo(programme, ana, module="MED-ADM", date=None, decisions=[key],
                       presenter="ana@hemit.no", attendees=["hanne@stolav.no"])  # fmt: skip
    approve(programme, actor, key, "hanne", "per")
    assert stage(programme, key) == "approved"
    assert services.check(programme) == []


def test_derive_stage_keeps_a_cap_until_fresh_evidence():
    from decisions.model import ApprovalRule, DecisionFacts, DemoFact, VerdictFact
    from decisions.workflow import derive_stage

    verdicts = (VerdictFact("a@x", "approve", "2022-09-10", "hospital", True, 1),
                VerdictFact("b@x", "approve", "2022-09-11", "hospital", True, 2))  # fmt: skip
    base = DecisionFacts(base_stage="built", built_at="2022-09-01T08:00:00",
                         demos=(DemoFact("2022-09-05", 2),), verdicts=verdicts)  # fmt: skip
    rule = ApprovalRule()
    assert derive_stage(base, rule) == "approved"
    capped = DecisionFacts(**{**base.__dict__, "stage_cap": "demonstrated",
                              "stage_cap_since": "2022-09-12T10:00:00"})  # fmt: skip
    assert derive_stage(capped, rule) == "demonstrated"
    again = VerdictFact("a@x", "approve", "2022-09-12T10:00:01", "hospital", True, 3)
    fresh = DecisionFacts(**{**capped.__dict__, "verdicts": (*verdicts, again)})
    assert derive_stage(fresh, rule) == "approved"
    demo_after = DecisionFacts(**{**capped.__dict__, "demos": (DemoFact("2022-09-13", 1),)})
    assert derive_stage(demo_after, rule) == "demonstrated"  # a demo is no verdict
    old_round = DecisionFacts(**{**capped.__dict__, "built_at": "2022-09-12T11:00:00",
                                 "demos": (DemoFact("2022-09-13", 1),),
                                 "verdicts": tuple(VerdictFact(v.expert, "approve", "2022-09-14",
                                                               "hospital", True, v.seq)
                                                   for v in verdicts)})  # fmt: skip
    assert derive_stage(old_round, rule) == "approved"


@pytest.fixture
def decision_page(programme, db_path, monkeypatch, actor):
    """A critical decision at demonstrated with two of its three approvals, on an app DB."""
    from conftest import drive_decision

    from decisions import store

    key = drive_decision(programme, "demonstrated", criticality="critical")
    approve(programme, actor, key, "hanne", "per")
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return key


def test_the_edit_form_asks_why_and_says_the_stage_is_held(programme, decision_page):
    from test_pages_core import button, signed_in, texts

    key = decision_page
    at = signed_in("ana@hemit.no", "pages/decision.py", key=key)
    box = at.expander[[x.label for x in at.expander].index("Edit details")]
    box.selectbox[2].set_value("high")
    before = snapshot(programme)
    button(at, "Save details").click().run()
    assert not at.exception, at.exception
    assert "give the reason for the change" in texts(at)
    assert snapshot(programme) == before
    box = at.expander[[x.label for x in at.expander].index("Edit details")]
    box.selectbox[2].set_value("high")
    next(t for t in box.text_input if t.label.startswith("Why")).input("Not critical after all")
    button(at, "Save details").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Saved: criticality." in shown and "It stays demonstrated" in shown
    assert "Held at demonstrated" in shown
    record = decision_store.get_decision(programme, key)
    assert (record["criticality"], record["stage"]) == ("high", "demonstrated")
    assert services.check(programme) == []


def test_the_edit_form_says_which_waves_the_decision_leaves(programme, decision_page):
    from test_pages_core import button, signed_in, texts

    from decisions import store
    from decisions.store import reference

    with store.transaction(programme):
        reference.insert_rows(programme, "waves",
                              [{"code": "W2", "name": "Wave 2", "go_live": "2023-02-11"}])  # fmt: skip
        reference.insert_rows(
            programme, "wave_organizations", [{"wave": "W2", "organization": "STO"}]
        )
    at = signed_in("ana@hemit.no", "pages/decision.py", key=decision_page)
    box = at.expander[[x.label for x in at.expander].index("Edit details")]
    box.multiselect[0].set_value(["TRD"])
    next(b for b in box.selectbox if b.label == "Scope").set_value("joint")  # TRD: not hospital
    next(t for t in box.text_input if t.label.startswith("Why")).input("Only Trondheim")
    button(at, "Save details").click().run()
    assert not at.exception, at.exception
    assert "It counts for the readiness of W1; no longer for W2." in texts(at)
    assert edit_events(programme, decision_page) == [
        ("edited:organizations", "STO", "TRD", "Only Trondheim"),
        ("edited:scope", "hospital", "joint", "Only Trondheim"),
    ]


def test_the_decision_page_says_a_kept_ready_mark_stands(
    programme, db_path, monkeypatch, actor, decision_at
):
    from test_pages_core import signed_in, texts

    from decisions import admin, store
    from decisions.model import ApprovalRule

    key = decision_at("ready")
    stricter = ApprovalRule(min_approvers=3, min_approvers_critical=3)
    admin.set_approval_rule(programme, actor("mona@hemit.no"), stricter, expected=ApprovalRule())
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    at = signed_in("vera@hemit.no", "pages/decision.py", key=key)
    assert "Marked ready on 15 Sep 2022: the mark stands" in texts(at)
