"""Optimistic concurrency and concurrent writers: a form built from a stale row version saves
nothing, and several processes changing one database file at once lose no update."""

from __future__ import annotations

import multiprocessing
import random
import time

import pytest
from conftest import snapshot

from decisions import cli, services, store
from decisions.model import StaleRecord
from decisions.store import anchor
from decisions.store import decisions as decision_store

PROCESSES, EDITS = 4, 25


def get(conn, key):
    return decision_store.get_decision(conn, key)


@pytest.mark.parametrize(
    "change",
    [
        lambda c, p, k, v: services.edit_decision(c, p("ana@hemit.no"), k, {"title": "B"},
                                                  row_version=v),
        lambda c, p, k, v: services.revise(c, p("hanne@stolav.no"), k, decision_text="B",
                                           reason="r", row_version=v),
        lambda c, p, k, v: services.set_manual_stage(c, p("mona@hemit.no"), k, "withdraw",
                                                     reason="r", row_version=v),
        lambda c, p, k, v: services.set_manual_stage(c, p("ana@hemit.no"), k, "start_build",
                                                     row_version=v),
    ],
    ids=["edit", "revise", "withdraw", "start_build"],
)  # fmt: skip
def test_a_form_built_from_a_stale_row_writes_nothing(programme, decision_at, change):
    def person(email):
        return decision_store.load_actor(programme, email)

    key = decision_at("decided")
    form = get(programme, key)["row_version"]
    services.edit_decision(programme, person("per@stolav.no"), key, {"question": "Who signs?"})
    before = snapshot(programme)
    with pytest.raises(StaleRecord, match=f"Decision {key} was changed by someone else"):
        change(programme, person, key, form)
    assert snapshot(programme) == before
    change(programme, person, key, get(programme, key)["row_version"])  # a fresh form saves
    assert snapshot(programme) != before


def test_the_decide_form_is_checked_too(programme, decision_at):
    key = decision_at("proposed")
    form = get(programme, key)["row_version"]
    hanne = decision_store.load_actor(programme, "hanne@stolav.no")
    services.edit_decision(programme, hanne, key, {"title": "Renamed meanwhile"})
    before = snapshot(programme)
    with pytest.raises(StaleRecord):
        services.decide(programme, hanne, key, decision_text="Two nurses sign.",
                        decided_by=["hanne@stolav.no"], row_version=form)  # fmt: skip
    assert snapshot(programme) == before


# Several processes at once ---------------------------------------------------------------------


def edit_titles(path, key, name, barrier, results):
    """One writer: EDITS title changes, each from the row version it read, retrying when
    someone else saved first. Reports (saved, retries, unexpected errors)."""
    conn = store.connect(path)
    analyst = decision_store.load_actor(conn, "ana@hemit.no")
    saved = retries = 0
    errors = []
    barrier.wait()
    for edit in range(EDITS):
        while True:
            seen = decision_store.get_decision(conn, key)["row_version"]
            time.sleep(random.random() / 500)  # a person between opening the form and saving
            try:
                services.edit_decision(conn, analyst, key, {"title": f"{name} edit {edit}"},
                                       row_version=seen)  # fmt: skip
            except StaleRecord:
                retries += 1
                continue
            except Exception as error:  # reported to the test, which fails
                errors.append(f"{type(error).__name__}: {error}")
            else:
                saved += 1
            break
    conn.close()
    results.put((saved, retries, errors))


def propose_many(path, name, barrier, results):
    conn = store.connect(path)
    hanne = decision_store.load_actor(conn, "hanne@stolav.no")
    barrier.wait()
    keys, errors = [], []
    for n in range(10):
        try:
            keys.append(services.create_decision(conn, hanne, {
                "title": f"{name} {n}", "domain": "MED", "module": "MED-ADM",
                "forum": "MED-H", "scope": "hospital", "organizations": ["STO"]}))  # fmt: skip
        except Exception as error:  # reported to the test, which fails
            errors.append(f"{type(error).__name__}: {error}")
    conn.close()
    results.put((keys, errors))


def run_together(target, args_for, count):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(count), context.Queue()
    workers = [context.Process(target=target, args=(*args_for(i), barrier, results))
               for i in range(count)]  # fmt: skip
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return reports


def test_concurrent_edits_lose_no_update(programme, decision_at, db_path):
    key = decision_at("decided")
    start = get(programme, key)["row_version"]
    reports = run_together(edit_titles, lambda i: (db_path, key, f"writer {i}"), PROCESSES)
    assert [errors for _, _, errors in reports] == [[]] * PROCESSES
    saved = sum(s for s, _, _ in reports)
    assert saved == PROCESSES * EDITS
    edits = [
        e for e in store.events_for(programme, "decision", key) if e["action"] == "edited:title"
    ]
    assert len(edits) == saved
    assert get(programme, key)["row_version"] - start == saved
    for earlier, later in zip(edits, edits[1:], strict=False):
        assert later["from_value"] == earlier["to_value"], "an edit was made from a stale title"
    assert get(programme, key)["title"] == edits[-1]["to_value"]
    assert services.check(programme) == []


def test_concurrent_proposals_get_distinct_keys(programme, db_path):
    reports = run_together(propose_many, lambda i: (db_path, f"writer {i}"), 3)
    assert [errors for _, errors in reports] == [[]] * 3
    keys = [k for found, _ in reports for k in found]
    assert len(set(keys)) == len(keys) == 30
    assert store.scalar(programme, "SELECT count(*) FROM events WHERE action = 'created'") == 30
    assert services.check(programme) == []


def test_check_while_processes_write_with_the_log_key_finds_nothing(
    programme, db_path, monkeypatch, capsys
):
    """Each commit moves the database's own head; `check`, run while three processes write,
    always sees the log and its head together (never one ahead of the other)."""
    monkeypatch.setenv(anchor.KEY_ENV, "a key of the programme's own, kept outside the file")
    assert cli.main(["check", "--db", str(db_path), "--anchor", f"{db_path}.head.json"]) == 0
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(3), context.Queue()
    workers = [context.Process(target=propose_many, args=(db_path, f"writer {i}", barrier,
                                                          results)) for i in range(3)]  # fmt: skip
    for worker in workers:
        worker.start()
    checks = []
    while any(worker.is_alive() for worker in workers) and results.qsize() < 3:
        checks.append(cli.main(["check", "--db", str(db_path)]))
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [errors for _, errors in reports] == [[]] * 3
    checks.append(cli.main(["check", "--db", str(db_path)]))
    assert set(checks) == {0}, capsys.readouterr().err
    head = anchor.read_head(f"{db_path}.head.json")
    assert (head["event_id"], head["hash"]) == store.last_event(programme)
