"""One process runs at most a few page runs at a time, in the order they came (ui.RunSlots):
forty runs at once on one interpreter each took forty times as long (issue 23). A run that
waits for another computation gives its slot back meanwhile; and My work draws only its open
tab, kept by position while the counts in the tabs' labels change."""

from __future__ import annotations

import threading
import time

from conftest import drive_decision
from test_run_cost import app_db, open_page  # noqa: F401  (app_db: a fixture)

import ui


def run_all(slots: ui.RunSlots, work, count: int) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # they arrive one after the other
    for thread in threads:
        thread.join(timeout=30)


def test_no_more_runs_at_once_than_slots_and_first_come_first_served():
    slots = ui.RunSlots(2)
    guard = threading.Lock()
    inside, most, order = [0], [0], []

    def run(number: int) -> None:
        with slots.taken():
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                order.append(number)
            time.sleep(0.1)
            with guard:
                inside[0] -= 1

    run_all(slots, run, 6)
    assert most[0] == 2
    assert order == list(range(6))


def test_a_run_that_waits_lets_the_next_one_in_and_goes_first_when_it_returns():
    slots = ui.RunSlots(1)
    waiting, done = threading.Event(), threading.Event()
    order: list[str] = []

    def waits() -> None:
        with slots.taken():
            order.append("waits: starts")
            with slots.given_back():
                waiting.set()
                done.wait(5)  # another computation, not on this interpreter
            order.append("waits: ends")

    def others(name: str) -> None:
        with slots.taken():
            order.append(name)
            if name == "second":
                done.set()
                time.sleep(0.1)  # the third queues behind, the first returns meanwhile

    first = threading.Thread(target=waits)
    first.start()
    assert waiting.wait(5)
    second = threading.Thread(target=others, args=("second",))
    second.start()
    while not done.is_set():
        time.sleep(0.01)
    third = threading.Thread(target=others, args=("third",))
    third.start()
    for thread in (first, second, third):
        thread.join(timeout=10)
    assert order == ["waits: starts", "second", "waits: ends", "third"]


def test_giving_back_without_a_slot_changes_nothing():
    slots = ui.RunSlots(1)
    with slots.given_back(), slots.taken():  # a background thread, not a page run
        pass
    with slots.taken():  # the one slot is still there
        pass


def test_a_run_waiting_for_an_aggregate_another_computes_gives_its_slot_back(
    programme, db_path, monkeypatch
):
    slots = ui.RunSlots(1)
    monkeypatch.setattr(ui, "RUN_SLOTS", slots)
    aggregates = ui.Aggregates(lambda path: ui.store.connect(path, migrate=False))
    computing, finished = threading.Event(), []

    def slow(conn):
        computing.set()
        time.sleep(0.5)
        finished.append(time.monotonic())
        return 1

    def background() -> None:  # a refresh: no slot
        conn = ui.store.connect(db_path, migrate=False)
        aggregates.get(conn, ("figure",), slow)
        conn.close()

    def waiting_run() -> None:
        conn = ui.store.connect(db_path, migrate=False)
        with slots.taken():
            aggregates.get(conn, ("figure",), slow)
        conn.close()

    ended = []

    def other_run() -> None:
        with slots.taken():
            ended.append(time.monotonic())

    threads = [threading.Thread(target=background)]
    threads[0].start()
    assert computing.wait(5)
    threads += [threading.Thread(target=waiting_run), threading.Thread(target=other_run)]
    threads[1].start()
    time.sleep(0.05)
    threads[2].start()
    for thread in threads:
        thread.join(timeout=10)
    assert ended and finished and ended[0] < finished[0]


def drawn(tab) -> bool:
    return len(tab.caption) > 0  # each open tab says what its queue holds


def test_my_work_draws_the_open_tab_only_and_keeps_it_while_the_counts_change(app_db):  # noqa: F811
    drive_decision(app_db, "demonstrated")
    at = open_page("pages/my_work.py", "hanne@stolav.no")
    labels = [t.label for t in at.tabs]
    assert len(labels) >= 2 and labels[0].endswith("(1)")
    assert at.tabs[0].dataframe and not any(drawn(t) for t in at.tabs[1:])
    at.session_state["my_work_tab"] = labels[-1]
    at.run()
    assert not at.exception
    assert drawn(at.tabs[-1]) and not any(drawn(t) for t in at.tabs[:-1])
    drive_decision(app_db, "demonstrated")  # another person's change: the counts move
    at.run()
    assert at.tabs[0].label.endswith("(2)")
    assert drawn(at.tabs[-1]) and not any(drawn(t) for t in at.tabs[:-1])
