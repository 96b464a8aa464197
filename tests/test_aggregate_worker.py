"""decisions.aggregates.Worker: the shared aggregates are computed in a process of their own,
give what the serving process would have computed, and a worker that dies or fails never
leaves a page without its figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ui
from decisions import aggregates, services, store
from tests.conftest import DECISION_FIELDS


@pytest.fixture
def worker():
    worker = aggregates.Worker()
    yield worker
    worker._discard()


def worker_pids() -> set[int]:
    return {child.pid for child in multiprocessing.active_children()}


def same(left, right) -> None:
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right)
    elif dataclasses.is_dataclass(left):
        assert type(left) is type(right)
        for field in dataclasses.fields(left):
            same(getattr(left, field.name), getattr(right, field.name))
    elif isinstance(left, np.ndarray):
        np.testing.assert_array_equal(left, right)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right)
    elif isinstance(left, dict):
        assert left.keys() == right.keys()
        for key in left:
            same(left[key], right[key])
    elif isinstance(left, tuple | list):
        assert len(left) == len(right)
        for one, other in zip(left, right, strict=True):
            same(one, other)
    else:
        assert left == right


JOBS = ["readiness", "overview", "backlog", "backlog.flow", "backlog.times", "backlog.workload"]


def job_for(name: str, today: dt.date) -> aggregates.Job:
    args = {"overview": (today.isoformat(),), "backlog.flow": (today, 8)}
    return aggregates.Job(name, args.get(name, (today,)))


@pytest.mark.parametrize("name", JOBS)
def test_the_worker_computes_what_the_serving_process_would(name, worker, programme, db_path):
    job = job_for(name, services.today(programme))
    before = worker_pids()
    in_worker = worker.compute(str(db_path), job, programme)
    started = worker_pids() - before
    assert started and os.getpid() not in started  # computed in a process of its own
    same(in_worker, job(programme))


def test_every_computation_a_page_asks_for_is_named(programme):
    assert set(JOBS) == set(aggregates.COMPUTATIONS)


def test_a_worker_killed_outright_is_replaced_and_the_figures_still_come(
    worker, programme, db_path
):
    job = job_for("overview", services.today(programme))
    expected = job(programme)
    others = worker_pids()
    worker.compute(str(db_path), job, programme)
    [first] = worker_pids() - others
    os.kill(first, signal.SIGKILL)
    same(worker.compute(str(db_path), job, programme), expected)  # in this process meanwhile
    same(worker.compute(str(db_path), job, programme), expected)
    replaced = worker_pids() - others
    assert replaced and first not in replaced


def test_an_error_in_the_computation_reaches_the_page_as_it_would_without_the_worker(
    worker, programme, db_path
):
    job = aggregates.Job("readiness", ("not a date",))
    with pytest.raises(Exception) as in_process:
        job(programme)
    with pytest.raises(type(in_process.value)):
        worker.compute(str(db_path), job, programme)


def test_the_shared_aggregates_see_a_change_made_just_before(programme, db_path, actor):
    shared = ui.Aggregates(lambda path: store.connect(path, migrate=False), aggregates.Worker())
    job = job_for("overview", services.today(programme))
    before = shared.get(programme, job.key, job).value["stages"]["decisions"].sum()
    services.create_decision(programme, actor("ana@hemit.no"), dict(DECISION_FIELDS))
    after = shared.get(programme, job.key, job).value["stages"]["decisions"].sum()
    shared._worker._discard()
    assert after == before + 1


WORKER_OF_A_KILLED_SERVER = """
import os, sys, time
from decisions import aggregates, services, store
conn = store.connect(sys.argv[1], migrate=False)
worker = aggregates.Worker()
worker.compute(sys.argv[1], aggregates.Job("overview", (services.today(conn).isoformat(),)), conn)
print([c.pid for c in __import__("multiprocessing").active_children()][0], flush=True)
time.sleep(60)
"""


def test_the_worker_exits_when_its_server_is_killed_outright(programme, db_path):
    server = subprocess.Popen(
        [sys.executable, "-c", WORKER_OF_A_KILLED_SERVER, str(db_path)],
        stdout=subprocess.PIPE, text=True, cwd=Path(ui.__file__).parent,
    )  # fmt: skip
    try:
        child = int(server.stdout.readline())
    finally:
        server.kill()
        server.wait()
    deadline = time.monotonic() + 10 * aggregates.PARENT_CHECK + 5
    while time.monotonic() < deadline and alive(child):
        time.sleep(0.1)
    assert not alive(child)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_serving_process_computes_them_itself_when_told_to(monkeypatch):
    monkeypatch.setenv(ui.WORKER_VARIABLE, "0")
    assert ui.aggregate_worker() is None
    monkeypatch.delenv(ui.WORKER_VARIABLE)
    started = ui.aggregate_worker()
    try:
        assert isinstance(started, aggregates.Worker)
    finally:
        started._discard()


UNDER_STREAMLIT = """
import sys, types
from pathlib import Path
from decisions import aggregates, services, store
script = types.ModuleType("__main__")  # as Streamlit runs the app's script
script.__file__ = sys.argv[2]
sys.modules["__main__"] = script
conn = store.connect(sys.argv[1], migrate=False)
job = aggregates.Job("overview", (services.today(conn).isoformat(),))
worker = aggregates.Worker()
print(sorted(worker.compute(sys.argv[1], job, conn)), flush=True)
worker._discard()
"""


def test_the_worker_never_runs_the_apps_script(programme, db_path, tmp_path):
    """Under `streamlit run` __main__ is the app's script, and a spawned process runs its
    parent's __main__ first: the worker ran streamlit_app.py without Streamlit, and its
    computations fell back to the serving process."""
    ran = tmp_path / "ran"
    script = tmp_path / "app_script.py"
    script.write_text(f"open({str(ran)!r}, 'w').close()\n")
    done = subprocess.run(
        [sys.executable, "-c", UNDER_STREAMLIT, str(db_path), str(script)],
        capture_output=True, text=True, cwd=Path(ui.__file__).parent, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stages" in done.stdout
    assert "the aggregate worker failed" not in done.stderr
    assert not ran.exists()
