"""ui.Aggregates: an expensive figure is computed once per process per change of the data,
however many sessions ask at the same moment; with a maximum age, the previous result is
served while one background computation brings it up to date, but never one older than the
session's own change."""

from __future__ import annotations

import re
import threading
import time

import pytest
from test_pages_programme import by_key, criteria_shown, open_page, texts
from test_readiness import build_known_programme

import ui
from decisions import services, store
from tests.conftest import DECISION_FIELDS

SESSIONS = 8


class Slow:
    """A computation that takes a while and counts how often it ran, and on which data."""

    def __init__(self, seconds: float = 0.3):
        self.seconds = seconds
        self.runs: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, conn):
        events = store.scalar(conn, "SELECT count(*) FROM events")
        time.sleep(self.seconds)
        with self.lock:
            self.runs.append(events)
        return events


@pytest.fixture
def aggregates(programme, db_path):
    return ui.Aggregates(lambda path: store.connect(path, migrate=False))


def sessions(db_path, call, n: int = SESSIONS) -> list:
    """`call(conn)` in n threads at once, each with its own connection (as page runs are)."""
    results: list = [None] * n
    start = threading.Barrier(n)

    def session(i: int) -> None:
        conn = store.connect(db_path, migrate=False)
        try:
            start.wait()
            results[i] = call(conn)
        finally:
            conn.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def change(conn, actor) -> int:
    """One change through the services; the last event's id after it."""
    services.create_decision(conn, actor("ana@hemit.no"), dict(DECISION_FIELDS))
    return store.scalar(conn, "SELECT max(id) FROM events")


def test_sessions_asking_at_once_share_one_computation(aggregates, db_path):
    compute = Slow()
    results = sessions(db_path, lambda c: aggregates.get(c, ("k",), compute).value)
    assert len(compute.runs) == 1
    assert len(set(results)) == 1


def test_after_a_change_it_is_computed_once_more_not_once_per_session(
    aggregates, programme, db_path, actor
):
    compute = Slow()
    before = aggregates.get(programme, ("k",), compute).value
    change(programme, actor)
    results = sessions(db_path, lambda c: aggregates.get(c, ("k",), compute).value)
    assert len(compute.runs) == 2
    assert set(results) == {before + 1}  # the decision's one creation event


def test_changes_made_while_sessions_wait_do_not_make_each_waiter_compute_again(
    aggregates, programme, db_path, actor, monkeypatch
):
    aggregates.get(programme, ("k",), Slow(0.0))
    change(programme, actor)
    asked: set[int] = set()  # the sessions that have read the data's state and now wait
    all_asked, changed = threading.Event(), threading.Event()
    read_event_id = ui._event_id

    def reading(marker: str):
        asked.add(threading.get_ident())
        if len(asked) >= SESSIONS:
            all_asked.set()
        return read_event_id(marker)

    monkeypatch.setattr(ui, "_event_id", reading)

    class SlowUntilChanged(Slow):
        def __call__(self, conn):
            changed.wait(timeout=10)  # the data changes while this runs and the others wait
            return super().__call__(conn)

    compute = SlowUntilChanged(0.1)
    writing = threading.Event()

    def writer() -> None:  # once every session has asked: a change every 20 ms
        all_asked.wait(timeout=10)
        conn = store.connect(db_path, migrate=False)
        try:
            while not writing.is_set():
                change(conn, actor)
                changed.set()
                time.sleep(0.02)
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = sessions(db_path, lambda c: aggregates.get(c, ("k",), compute))
    finally:
        writing.set()
        thread.join()
    assert changed.is_set()
    assert len(compute.runs) == 1  # one for all eight sessions, not one per waiter
    assert len({r.event_id for r in results}) == 1


def test_without_a_maximum_age_every_read_is_current(aggregates, programme, actor):
    compute = Slow(0.0)
    first = aggregates.get(programme, ("k",), compute)
    change(programme, actor)
    second = aggregates.get(programme, ("k",), compute)
    assert second.value == first.value + 1
    assert second.event_id > first.event_id


def test_with_a_maximum_age_the_previous_result_serves_while_one_refresh_runs(
    aggregates, programme, db_path, actor
):
    compute = Slow(0.3)
    first = aggregates.get(programme, ("k",), compute)
    change(programme, actor)
    started = time.monotonic()
    results = sessions(
        db_path, lambda c: aggregates.get(c, ("k",), compute, max_age=60, refresh_after=0)
    )
    assert time.monotonic() - started < 0.25  # nobody waited for the computation
    assert {r.value for r in results} == {first.value}
    assert all(r.as_of == first.as_of for r in results)  # the page says as of when
    deadline = time.monotonic() + 10
    while len(compute.runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    assert compute.runs == [first.value, first.value + 1]  # one refresh for all the sessions
    assert aggregates.get(programme, ("k",), compute, max_age=60).value == first.value + 1


def test_while_the_data_keeps_changing_an_old_enough_result_is_refreshed_not_every_change(
    aggregates, programme, db_path, actor
):
    compute = Slow(0.02)
    aggregates.get(programme, ("k",), compute)
    stop = time.monotonic() + 1.2
    served = []
    while time.monotonic() < stop:  # a change and a page run every 20 ms
        change(programme, actor)
        served.append(aggregates.get(programme, ("k",), compute, max_age=60, refresh_after=0.5))
        time.sleep(0.02)
    assert len(served) > 25
    assert 2 <= len(compute.runs) <= 4  # the first, then one refresh per half second or so


def test_a_session_sees_its_own_change_at_once_even_with_a_maximum_age(
    aggregates, programme, actor
):
    compute = Slow(0.0)
    first = aggregates.get(programme, ("k",), compute)
    own = change(programme, actor)
    mine = aggregates.get(programme, ("k",), compute, needed=own, max_age=60)
    assert mine.value == first.value + 1
    assert mine.event_id >= own


def test_while_its_refresh_runs_an_older_result_serves_rather_than_everyone_waiting(
    aggregates, programme, actor
):
    """Under load the refresh shares the interpreter with every page run and may take longer
    than the maximum age; sessions that queued behind it then never got a page quickly."""
    compute = Slow(0.0)
    first = aggregates.get(programme, ("k",), compute, max_age=0.2, refresh_after=0.05)
    compute.seconds = 0.6
    change(programme, actor)
    time.sleep(0.1)
    assert aggregates.get(programme, ("k",), compute, max_age=0.2, refresh_after=0.05) is first
    time.sleep(0.2)  # older than the maximum age now, and the refresh still runs
    assert aggregates.get(programme, ("k",), compute, max_age=0.2, refresh_after=0.05) is first
    assert len(compute.runs) == 1
    deadline = time.monotonic() + 10
    while len(compute.runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    assert aggregates.get(programme, ("k",), compute, max_age=60).value == first.value + 1


def test_a_result_that_took_longer_than_the_maximum_age_serves_once_ready(
    aggregates, programme, actor
):
    """Under load a computation may take longer than the maximum age; its result was then too
    old the moment it was ready, and every session computed again while the others waited."""
    compute = Slow(0.4)
    first = aggregates.get(programme, ("k",), compute, max_age=0.3)
    change(programme, actor)
    assert aggregates.get(programme, ("k",), compute, max_age=0.3) is first
    deadline = time.monotonic() + 10
    while len(compute.runs) < 2 and time.monotonic() < deadline:  # refreshed in the background
        time.sleep(0.05)
    time.sleep(0.1)
    assert aggregates.get(programme, ("k",), compute, max_age=60).value == first.value + 1


def test_a_result_older_than_the_maximum_age_is_not_served(aggregates, programme, actor):
    compute = Slow(0.0)
    first = aggregates.get(programme, ("k",), compute, max_age=0.2)
    change(programme, actor)
    time.sleep(0.3)
    assert aggregates.get(programme, ("k",), compute, max_age=0.2).value == first.value + 1


# The pages --------------------------------------------------------------------------------------


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    build_known_programme(programme)
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/readiness.py", "pages/backlog.py"])
def test_the_dashboards_say_as_of_when_their_figures_are(app_db, page):
    at = open_page("mona@hemit.no", page, wave="W1")
    captions = [c.value for c in at.caption if c.value.startswith("Figures as of ")]
    assert len(captions) == 1
    assert re.fullmatch(r"Figures as of \d\d:\d\d:\d\d\.", captions[0])


def test_by_default_the_dashboards_may_be_a_few_seconds_old_and_say_so(app_db, monkeypatch):
    monkeypatch.delenv(ui.MAX_AGE_VARIABLE)
    assert ui.dashboard_max_age() == ui.DEFAULT_MAX_AGE > 0
    at = open_page("mona@hemit.no", "pages/overview.py")
    captions = [c.value for c in at.caption if c.value.startswith("Figures as of ")]
    assert len(captions) == 1
    assert re.fullmatch(
        r"Figures as of \d\d:\d\d:\d\d, brought up to date about every 15 seconds; your own "
        r"changes show at once\.",
        captions[0],
    )


def test_a_managers_own_change_shows_at_once_when_figures_may_be_old(app_db, monkeypatch):
    monkeypatch.setenv(ui.MAX_AGE_VARIABLE, "600")
    at = open_page("mona@hemit.no", "pages/readiness.py", wave="W1")
    by_key(at, "readiness_records").set_value("R7").run()
    at.number_input(key="measure_W1_R7_value").set_value(91.5)
    at.button(key="measure_W1_R7_save").click().run()
    assert "Measurement of R7 recorded." in texts(at)
    assert criteria_shown(at)["R7"] == 91.5


def test_a_database_replaced_at_the_same_path_is_computed_afresh(db_path, actor, programme):
    """A restored or rebuilt database may have fewer events than the one cached."""
    aggregates = ui.Aggregates(lambda path: store.connect(path, migrate=False))
    compute = Slow(0.0)
    change(programme, actor)
    change(programme, actor)
    first = aggregates.get(programme, ("k",), compute)
    programme.close()
    for leftover in (db_path, db_path.with_name(db_path.name + "-wal")):
        leftover.unlink(missing_ok=True)
    from tests.conftest import build_small_programme

    conn = store.connect(db_path)
    try:
        build_small_programme(conn)
        again = aggregates.get(conn, ("k",), compute, max_age=60)
        assert again.value == first.value - 2
    finally:
        conn.close()


def test_a_chart_asked_for_by_many_sessions_at_once_is_made_once():
    """When an aggregate is refreshed every session on its dashboard asks for its new chart
    at the same moment; each used to build and validate it (0.05-0.1 s of CPU each)."""
    import altair as alt
    import pandas as pd

    built = []

    def build():
        built.append(1)
        time.sleep(0.2)
        return (
            alt.Chart(pd.DataFrame({"x": [1, 2]}))
            .mark_bar()
            .encode(x=alt.X("x", type="quantitative"))
        )

    key = ("test chart", time.monotonic())
    specs: list = [None] * SESSIONS
    start = threading.Barrier(SESSIONS)

    def session(i: int) -> None:
        start.wait()
        specs[i] = ui.kept(key, lambda: ui._draw(build)).spec

    threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(spec is specs[0] for spec in specs) and specs[0]["mark"]["type"] == "bar"
