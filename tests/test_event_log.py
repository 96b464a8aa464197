"""The event log: append-only, hash-chained, written in the change's transaction, and enough
to rebuild every decision's stage."""

from __future__ import annotations

import sqlite3

import pytest

from decisions import services, store
from decisions.store import decisions as decision_store


@pytest.fixture
def journey(programme, decision_at):
    """A programme with some history: decisions at several stages, one withdrawn."""
    keys = [decision_at(stage) for stage in ("ready", "in_test", "proposed", "withdrawn")]
    return programme, keys


def raw(conn) -> sqlite3.Connection:
    """A second connection to the same file, with no safeguards of the app."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA foreign_keys = OFF")
    return other


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET reason = 'edited later' WHERE id = 2",
        "UPDATE events SET hash = hash",
        "DELETE FROM events WHERE id = 3",
        "DELETE FROM events",
        "INSERT OR REPLACE INTO events (id, at, actor, entity, entity_key, action, hash) "
        "VALUES (1, '2022-01-01', 'x', 'decision', 'MED-0001', 'created', 'x')",
        "INSERT INTO events (id, at, actor, entity, entity_key, action, hash) "
        "VALUES (1, '2022-01-01', 'x', 'decision', 'MED-0001', 'created', 'x') "
        "ON CONFLICT (id) DO UPDATE SET reason = 'x'",
    ],
)
def test_the_event_log_is_append_only(journey, sql):
    conn, _ = journey
    before = store.rows(conn, "SELECT * FROM events ORDER BY id")
    for connection in (conn, raw(conn)):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute(sql)
    assert store.rows(conn, "SELECT * FROM events ORDER BY id") == before


def test_a_clean_log_verifies(journey):
    conn, _ = journey
    assert store.scalar(conn, "SELECT count(*) FROM events") > 20
    assert store.verify_event_log(conn) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2021-01-01T00:00:00"),
        ("actor", "someone@else.no"),
        ("entity_key", "MED-0099"),
        ("action", "stage"),
        ("from_value", "proposed"),
        ("to_value", "ready"),
        ("reason", "nothing to see"),
        ("hash", "0" * 64),
    ],
)
def test_tampering_with_an_event_is_reported(journey, column, value):
    conn, _ = journey
    tamper = raw(conn)
    tamper.execute("DROP TRIGGER events_no_update")
    tamper.execute(f"UPDATE events SET {column} = ? WHERE id = 5", (value,))
    tamper.close()
    findings = services.check(conn)
    assert "event log: event 5 does not match its hash" in findings
    assert all(f.startswith("event log: event 5 ") or f.startswith("event log: event 6 ")
               for f in findings if f.startswith("event log"))  # fmt: skip


@pytest.mark.parametrize("gone", [1, 7])
def test_a_missing_event_is_reported(journey, gone):
    conn, _ = journey
    tamper = raw(conn)
    tamper.execute("DROP TRIGGER events_no_delete")
    tamper.execute("DELETE FROM events WHERE id = ?", (gone,))
    tamper.close()
    assert f"event log: event {gone} is missing (next is {gone + 1})" in services.check(conn)


def test_a_missing_last_stage_event_is_reported(journey):
    conn, keys = journey
    last = store.last_event(conn)[0]
    assert store.one(conn, "SELECT * FROM events WHERE id = ?", (last,))["action"] == "stage"
    tamper = raw(conn)
    tamper.execute("DROP TRIGGER events_no_delete")
    tamper.execute("DELETE FROM events WHERE id = ?", (last,))
    tamper.close()
    [record, *rest] = services.check(conn)
    # the record as its last remaining event wrote it differs from the record as it stands
    assert record.startswith(f"records: decisions key {keys[-1]} differs from the record its")
    assert rest == [f"history: {keys[-1]} is stored as withdrawn, its events say proposed"]


def test_events_are_chained_whatever_the_value_types(programme):
    with store.transaction(programme):
        store.append_events(programme, [
            {"at": "2022-09-15T10:00:00", "actor": "system", "entity": "wave",
             "entity_key": 7, "action": "replanned", "from_value": 1, "to_value": 2.5,
             "reason": 3},
        ])  # fmt: skip
    assert store.verify_event_log(programme) == []


def test_events_are_written_only_inside_a_transaction(programme):
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        store.append_events(programme, [{"at": "2022-09-15", "actor": "x", "entity": "x",
                                         "entity_key": "x", "action": "x"}])  # fmt: skip


def test_a_failed_change_leaves_no_event(programme):
    before = store.last_event(programme)
    with pytest.raises(RuntimeError), store.transaction(programme):
        store.append_events(programme, [{"at": "2022-09-15", "actor": "x", "entity": "x",
                                         "entity_key": "x", "action": "x"}])  # fmt: skip
        raise RuntimeError("the change failed after its event")
    assert store.last_event(programme) == before


def test_the_log_rebuilds_every_stage(journey):
    conn, keys = journey
    for key in keys:
        history = [e for e in store.events_for(conn, "decision", key)
                   if e["action"] in ("created", "stage")]  # fmt: skip
        assert history[0]["action"] == "created" and history[0]["to_value"] == "proposed"
        for earlier, later in zip(history, history[1:], strict=False):
            assert later["from_value"] == earlier["to_value"], f"{key}: the chain of stages breaks"
        assert history[-1]["to_value"] == decision_store.get_decision(conn, key)["stage"]
