"""What a run of My work, Approvals and the Decision page does beyond the shared aggregates
(issue 23: at ten times the demo's volume My work cost 0.12-0.25 s of CPU per run, Decision and
Approvals 0.10 s): no frame read twice in a run, and each distinct value worded once."""

from __future__ import annotations

import math

import pandas as pd
from conftest import drive_decision
from test_run_cost import app_db, counting, open_page  # noqa: F401  (app_db: a fixture)

import ui
from decisions import evidence, words
from decisions.store import queues


def test_approvals_reads_the_queue_and_its_progress_once_a_run(app_db, monkeypatch):  # noqa: F811
    """The demo section read the expert's queue again, and worked out and worded the approval
    rule's progress again for the decisions the table above had just shown."""
    for _ in range(2):
        drive_decision(app_db, "demonstrated")
    at = open_page("pages/approvals.py", "hanne@stolav.no")
    reads = counting(monkeypatch, queues, "approvals_queue")
    progress = counting(monkeypatch, evidence, "approval_status")
    worded = counting(monkeypatch, words, "progress_text")
    at.run()
    assert not at.exception
    assert len(reads) == 1 and len(progress) == 1
    assert len(worded) == 1  # both decisions need the same: worded once
    [queue] = [t.value for t in at.dataframe if "Approval rule" in t.value.columns]
    assert (
        queue["Approval rule"].tolist()
        == ["0 of 2 approvers; needs 2 more approvers of the domain"] * 2
    )
    assert [r.label for r in at.radio if r.key and r.key.startswith("batch_verdict_")]


def test_a_queue_words_each_distinct_value_once(monkeypatch):
    stages = counting(monkeypatch, words, "stage_word")
    frame = pd.DataFrame(
        {
            "key": ["A-1", "A-2", "A-3", "A-4"],
            "stage": ["decided", "decided", "in_build", "decided"],
            "needed_by": ["2022-09-15", None, math.nan, "2022-09-15"],
        }
    )
    shown = words.readable(frame, {})
    assert sorted(args for args in stages) == [("decided",), ("in_build",)]
    assert shown["Stage"].tolist() == ["Decided", "Decided", "In build", "Decided"]
    day = words.date_text("2022-09-15")
    assert shown["Needed by"].tolist() == [day, "", "", day]


def test_wording_each_value_once_keeps_values_python_finds_equal_apart():
    assert words.each_worded(repr, [1, True, 1.0, 1, [1], [1]]) == [
        "1",
        "True",
        "1.0",
        "1",
        "[1]",
        "[1]",
    ]


def test_approvals_without_a_domain_counts_every_decision_awaiting_not_those_it_read(
    app_db,  # noqa: F811
    monkeypatch,
):
    """It read the 1,000 longest-waiting decisions to show 200, and counted those it read."""
    for _ in range(3):
        drive_decision(app_db, "demonstrated")
    at = open_page("pages/approvals.py")  # a manager: no domain of their own
    read = queues.awaiting_approval
    monkeypatch.setattr(queues, "awaiting_approval",
                        lambda conn, limit=1000: read(conn, limit=min(limit, 2)))  # fmt: skip
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Demonstrated, awaiting approval (3)"
    assert len(at.dataframe[0].value) == 2


def test_my_work_words_only_the_rows_a_queue_shows(app_db, monkeypatch):  # noqa: F811
    for _ in range(3):
        drive_decision(app_db, "demonstrated")
    at = open_page("pages/my_work.py", "hanne@stolav.no")
    monkeypatch.setattr(ui, "ROWS_SHOWN", 2)
    worded = []
    readable = words.readable
    monkeypatch.setattr(words, "readable",
                        lambda frame, names: worded.append(len(frame)) or readable(frame, names))  # fmt: skip
    at.run()
    assert not at.exception
    assert worded and max(worded) <= 2
    assert at.tabs[0].label.endswith("(3)")
    assert len(at.tabs[0].dataframe[0].value) == 2


def test_my_works_own_queues_search_by_index_not_every_row(programme):
    """At ten times the demo's volume 'You own' scanned every decision (14 ms a run) and 'Your
    escalations' looked up each escalation in the event log for its actor (25 ms)."""
    from decisions.store import screen_queries

    statements: list[str] = []
    programme.set_trace_callback(statements.append)
    screen_queries.owned_by(programme, "hanne@stolav.no")
    screen_queries.escalated_by(programme, "hanne@stolav.no")
    programme.set_trace_callback(None)
    plans = [
        [row[3] for row in programme.execute(f"EXPLAIN QUERY PLAN {statement}")]
        for statement in statements
        if statement.lstrip().startswith("SELECT")
    ]
    assert len(plans) == 2
    assert plans[0][0].startswith("SEARCH d USING INDEX decisions_owner (owner=?)")
    assert plans[1][0].startswith("SEARCH e USING INDEX events_action_actor (action=? AND actor=?)")
