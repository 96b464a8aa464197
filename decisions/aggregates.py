"""The figures the dashboards share (every wave's readiness, the overview's counts, the
backlog's parts), each named by a `Job` so that a worker process can compute it.

One Streamlit process serves every session on one core: Python runs one thread at a time, so
an aggregate computed in the serving process (0.5-1.4 s of CPU at ten times the demo's volume)
stops every page run while it computes. `Worker` computes jobs in a process of its own, on
another core; the serving process only waits for the result (ui.Aggregates).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from decisions import backlog, readiness, store
from decisions.store import analytics, queues, screen_queries

SUSPECT_SHOWN = 1000
SUSPECT_COLUMNS = ["key", "title", "stage", "version", "suspect_demos", "suspect_verdicts",
                   "suspect_runs"]  # fmt: skip


def wave_readiness(conn: sqlite3.Connection, as_of: dt.date):
    """Every wave evaluated as of the date, with history enough for the burn-up."""
    return readiness.assess(conn, as_of, weeks=readiness.BURN_UP_WEEKS)


def overview_figures(conn: sqlite3.Connection, today: str) -> dict[str, pd.DataFrame | int]:
    """Everything the overview shows besides readiness."""
    suspect = queues.suspect_evidence(conn, limit=SUSPECT_SHOWN)
    return {
        "waves": screen_queries.next_go_lives(conn, today),
        "stages": screen_queries.stage_counts(conn),
        "overdue": screen_queries.overdue_proposals(conn, today),
        "overdue_total": screen_queries.count_overdue_proposals(conn, today),
        "stuck": screen_queries.stuck_longest(conn, today),
        "escalated": screen_queries.escalated_open(conn),
        "suspect": suspect[SUSPECT_COLUMNS],
    }


_current_kept: dict[tuple[str, dt.date], tuple] = {}
_current_guard = threading.Lock()


def backlog_current(conn: sqlite3.Connection, as_of: dt.date) -> tuple:
    """The base tables, the decisions as of the date and those past their needed-by date; the
    stage times and the workload start from it, so the last one of each date is kept for as
    long as the data is unchanged."""
    marker = analytics.data_marker(conn)
    with _current_guard:
        kept = _current_kept.get((marker, as_of))
    if kept is None:
        base, decisions = backlog.load_current(conn, as_of)
        kept = (base, decisions, backlog.overdue(decisions, as_of))
        with _current_guard:
            _current_kept.clear()
            _current_kept[(marker, as_of)] = kept
    return kept


def backlog_stage_times(conn: sqlite3.Connection, as_of: dt.date):
    return backlog.load_stage_times(conn, backlog_current(conn, as_of)[0])


def backlog_workload(conn: sqlite3.Connection, as_of: dt.date) -> pd.DataFrame:
    return backlog.load_workload(conn, backlog_current(conn, as_of)[1], as_of)


COMPUTATIONS: dict[str, Callable[..., Any]] = {
    "readiness": wave_readiness,
    "overview": overview_figures,
    "backlog": backlog_current,
    "backlog.flow": backlog.load_flow,
    "backlog.times": backlog_stage_times,
    "backlog.workload": backlog_workload,
}


@dataclass(frozen=True)
class Job:
    """One aggregate by name and arguments (plain data, so it can go to a worker process);
    called with a connection, it computes the aggregate there."""

    name: str
    args: tuple = ()

    def __call__(self, conn: sqlite3.Connection) -> Any:
        return COMPUTATIONS[self.name](conn, *self.args)

    @property
    def key(self) -> tuple:
        return (self.name, *self.args)


def compute_at(path: str, job: Job) -> Any:
    """In the worker: `job` on the database file at `path`."""
    conn = store.connect(Path(path), migrate=False)
    try:
        return job(conn)
    finally:
        conn.close()


PARENT_CHECK = 1.0  # seconds


def _exit_with(parent: int) -> None:
    """In the worker: exit when the process that started it has gone (a server killed
    outright cannot stop its worker)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


@contextlib.contextmanager
def _no_main_script() -> Iterator[None]:
    """A process started meanwhile does not run this one's __main__ again: multiprocessing's
    spawn runs it in the new process (by its path) before anything else, and under Streamlit
    __main__ is the app's script (every script runs as __main__), which must not run there."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class Worker:
    """A process of its own that computes jobs one at a time, started on first use. When it
    cannot be started or dies, the job is computed in the calling process instead (and the
    next job starts a new worker)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._guard = threading.Lock()

    def start(self) -> None:
        """Start the process now (it imports the package: a second or two), not when the first
        dashboard waits for it."""
        try:
            self._submit(int)
        except (BrokenExecutor, OSError, RuntimeError):
            self._discard()

    def compute(self, path: str, job: Job, conn: sqlite3.Connection) -> Any:
        try:
            return self._submit(compute_at, path, job).result()
        except (BrokenExecutor, OSError, RuntimeError):
            logging.getLogger(__name__).exception("the aggregate worker failed on %s", job)
            self._discard()
            return job(conn)

    def _submit(self, *call: Any):
        with self._guard:
            if self._pool is None:
                with _no_main_script():  # its process starts with the first submit
                    self._pool = ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=multiprocessing.get_context("spawn"),  # never fork a server
                        initializer=_exit_with,
                        initargs=(os.getpid(),),
                    )
                    return self._pool.submit(*call)
            return self._pool.submit(*call)

    def _discard(self) -> None:
        with self._guard:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
