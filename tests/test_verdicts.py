"""Issue 24, item 1: a verdict given reads as given, an identical second verdict is not
stored, a changed one is the expert's latest, and the expert works through a review queue."""

from __future__ import annotations

import pytest
import test_pages_core
from conftest import as_read, drive_decision
from test_pages_core import button, signed_in, texts

from decisions import evidence, i18n, services, store
from decisions import io as transfer_io
from decisions.model import SYSTEM_ACTOR
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import queues


def approvals_and_events(conn, key):
    approvals = conn.execute("SELECT count(*) FROM approvals WHERE decision = ?", (key,))
    events = conn.execute("SELECT count(*) FROM events WHERE entity = 'approval'")
    return approvals.fetchone()[0], events.fetchone()[0]


def test_a_double_submit_stores_one_approval(programme, actor, decision_at):
    key = decision_at("demonstrated")
    before = approvals_and_events(programme, key)
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    once = approvals_and_events(programme, key)
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve", comment="again")
    assert approvals_and_events(programme, key) == once == (before[0] + 1, before[1] + 1)


def test_a_changed_verdict_is_the_experts_latest(programme, actor, decision_at):
    key = decision_at("demonstrated", criticality="critical")
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "changes_requested",
                            comment="Wrong dose unit")  # fmt: skip
    latest = evidence_store.latest_verdict_of(programme, key, "per@stolav.no")
    assert latest["verdict"] == "changes_requested" and latest["comment"] == "Wrong dose unit"


def test_the_review_queue_gives_the_next_decision_and_the_progress(programme, actor, decision_at):
    first, second, third = (decision_at("demonstrated") for _ in range(3))
    waiting = queues.approvals_queue(programme, "per@stolav.no")["key"].tolist()
    assert waiting == [first, second, third]
    assert evidence.review_place(programme, "per@stolav.no", second) == evidence.ReviewPlace(
        2, 3, third
    )
    assert evidence.review_place(programme, "per@stolav.no", third).next_key == first
    evidence.record_verdict(programme, actor("per@stolav.no"), first, "approve")
    done = evidence.review_place(programme, "per@stolav.no", first)
    assert done == evidence.ReviewPlace(None, 2, second)
    assert evidence.place_in_queue([first], first) == evidence.ReviewPlace(1, 1, None)


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    path = tmp_path / "app.db"
    made = test_pages_core.make_programme(path)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    return path, made


def test_the_page_shows_the_verdict_given_after_approving_and_after_a_reload(demo_db):
    path, keys = demo_db
    key = keys["demonstrated"]
    at = signed_in("per@stolav.no", "pages/decision.py", key=key)
    assert "Your verdict awaits" in texts(at)
    at.radio[0].set_value("approve")
    button(at, "Give verdict").click().run()
    assert not at.exception, at.exception
    for page in (at, signed_in("per@stolav.no", "pages/decision.py", key=key)):
        shown = texts(page)
        assert "Your verdict: Approved" in shown and "Your verdict awaits" not in shown
        assert not [r for r in page.radio if r.label == "Your verdict"]  # no form
    conn = store.connect(path)
    assert approvals_and_events(conn, key)[0] == 1
    conn.close()
    button(at, "Change your verdict").click().run()
    assert "Your verdict awaits" in texts(at)


def test_the_verdict_given_in_bokmal(demo_db, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    key = demo_db[1]["demonstrated"]
    conn = store.connect(demo_db[0])
    evidence.record_verdict(conn, decision_store.load_actor(conn, "per@stolav.no"), key, "approve")
    conn.close()
    at = signed_in("per@stolav.no", "pages/decision.py", key=key)
    assert "Din vurdering: Godkjent" in texts(at)
    i18n.use("en")


def test_next_decision_opens_the_next_one_awaiting_the_verdict(demo_db):
    path, keys = demo_db
    conn = store.connect(path)
    second = drive_decision(conn, "demonstrated", title="Dosering")
    conn.close()
    at = signed_in("per@stolav.no", "pages/decision.py", key=keys["demonstrated"])
    assert "1 of 2 awaiting your verdict" in texts(at)
    button(at, f"Next decision: {second}").click().run()
    assert not at.exception, at.exception
    assert as_read(at.title[0].value).startswith(
        second
    ) and "2 of 2 awaiting your verdict" in texts(at)


def test_the_import_does_not_store_a_verdict_the_expert_has_already_given(
    programme, actor, decision_at, advance_clock
):
    key = decision_at("demonstrated", criticality="critical")
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    once = approvals_and_events(programme, key)
    advance_clock()
    now = services.now(programme)
    text = f"decision,expert,verdict,date,comment\n{key},per@stolav.no,approve,{now},again\n"
    source = transfer_io.Source("approvals.csv", text.encode(), "approvals")
    result = transfer_io.import_sources(programme, [source], SYSTEM_ACTOR)
    assert not result.errors
    assert approvals_and_events(programme, key) == once
