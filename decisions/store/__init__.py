"""Storage: the only place that speaks SQL. This module holds the connection, transactions,
settings and the append-only event log; the query modules beside it hold the rest."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from decisions.i18n import _
from decisions.model import WorkflowError
from decisions.store import anchor, records, write
from decisions.store.schema import migrations

DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "decisions.db"
BUSY_TIMEOUT_MS = 10_000
GENESIS_HASH = "0" * 64


def database_path(explicit: str | os.PathLike | None = None) -> Path:
    """--db, else $DECISIONS_DB, else data/decisions.db."""
    return Path(explicit or os.environ.get("DECISIONS_DB") or DEFAULT_DB)


def connect(path: str | os.PathLike, *, migrate: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        _switch_to_wal(conn)
    if migrate and migrations.pending(Database(conn)):
        with transaction(conn):  # under the write lock, so two first starts do not race
            migrations.apply(Database(conn))
    return conn


def pending_migrations(conn: sqlite3.Connection) -> list[str]:
    """The schema migrations this database has not had yet (an older version wrote it)."""
    return [m.name for m in migrations.pending(Database(conn))]


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """First connections to a new file race for the switch, and SQLite answers the losers
    'database is locked' at once, without waiting for the busy timeout: retry until it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def leave_wal(conn: sqlite3.Connection) -> None:
    """Fold the write-ahead log into the file and stop keeping one: a file that is whole on its
    own, to be moved into place or copied."""
    conn.execute("PRAGMA journal_mode = DELETE")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query inside it sees the database as it was at its first
    read, whatever other processes commit meanwhile; nothing is written."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction. BEGIN IMMEDIATE takes the write lock up front, so a
    transaction that reads and then writes waits for the busy timeout instead of failing.
    Inside an open transaction (an import calling the use cases row by row) it is a
    savepoint: a refused row is undone alone, and the outer transaction decides the rest."""
    if conn.in_transaction:
        yield from _savepoint(conn)
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000 * 3
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise WorkflowError(
                    _("The database is busy with another change; please try again.")
                ) from error
    key = anchor.log_key()
    before = _log_end(conn) if key else None
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if key is None or _log_end(conn) == before or not (database := database_file(conn)):
        conn.execute("COMMIT")
        return
    with anchor.head_lock(database, exclusive=True):
        conn.execute("COMMIT")
        head = anchor.head_record(*last_event(conn), key, database)
        anchor.write_head(anchor.own_head_path(database), head)


def _log_end(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """The log's last event, None before the schema has a log."""
    try:
        return last_event(conn)
    except sqlite3.OperationalError:
        return None


def database_file(conn: sqlite3.Connection) -> str:
    """The main database's file ('' in memory)."""
    return conn.execute("PRAGMA database_list").fetchone()[2]


def _savepoint(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("SAVEPOINT nested")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO nested")
        conn.execute("RELEASE nested")
        raise
    else:
        conn.execute("RELEASE nested")


def rows(conn: sqlite3.Connection, sql: str, params: Sequence | dict = ()) -> list[dict]:
    return [dict(row) for row in conn.execute(sql, params)]


def one(conn: sqlite3.Connection, sql: str, params: Sequence | dict = ()) -> dict | None:
    row = conn.execute(sql, params).fetchone()
    return dict(row) if row else None


def scalar(conn: sqlite3.Connection, sql: str, params: Sequence | dict = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def integrity_findings(conn: sqlite3.Connection) -> list[str]:
    """What SQLite's own checks find: a damaged file, rows referring to missing rows."""
    findings = [
        _("integrity: {problem}", problem=r[0])
        for r in conn.execute("PRAGMA integrity_check")
        if r[0] != "ok"
    ]
    return findings + [
        _("foreign key: {table} row {row} refers to a missing {parent}", table=r[0], row=r[1],
          parent=r[2])
        for r in conn.execute("PRAGMA foreign_key_check")
    ]  # fmt: skip


def is_empty(conn: sqlite3.Connection) -> bool:
    """True when the programme holds no organisations, experts or decisions."""
    return not any(
        scalar(conn, f"SELECT EXISTS (SELECT 1 FROM {table})")
        for table in ("organizations", "experts", "decisions")
    )


# Settings --------------------------------------------------------------------------------


def get_settings(conn: sqlite3.Connection) -> dict[str, Any]:
    return {row["key"]: json.loads(row["value"]) for row in conn.execute("SELECT * FROM settings")}


def put_setting(conn: sqlite3.Connection, key: str, value: Any) -> None:
    write.upsert(conn, "settings", [{"key": key, "value": json.dumps(value)}], ("key",))


# The event log ---------------------------------------------------------------------------

EVENT_FIELDS = (
    "id",
    "at",
    "actor",
    "entity",
    "entity_key",
    "action",
    "from_value",
    "to_value",
    "reason",
)


def event_hash(previous: str, event: dict) -> str:
    """Each event's hash covers the one before it, so any edit to the log shows. An event about
    a covered record (store.records) also covers that record's digest as written."""
    values = [previous] + [event.get(f) for f in EVENT_FIELDS]
    if event.get("digest") is not None:
        values.append(event["digest"])
    body = json.dumps(values, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def last_event(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def last_event_time(conn: sqlite3.Connection) -> str | None:
    """When the most recently appended event happened ('YYYY-MM-DDTHH:MM:SS')."""
    at = scalar(conn, "SELECT at FROM events ORDER BY id DESC LIMIT 1")
    return at[:19].replace(" ", "T") if at else None


def record_digests(conn: sqlite3.Connection, events: list[dict]) -> list[str | None]:
    """The digest of the record each event is about, as it stands now (None for an entity the
    log does not cover; records.ABSENT for a record that does not exist)."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.get("entity") in records.COVERED:
            wanted.setdefault(event["entity"], set()).add(str(event["entity_key"]))
    found = {entity: records.digests(conn, entity, keys) for entity, keys in wanted.items()}
    return [
        found[e["entity"]].get(str(e["entity_key"]), records.ABSENT)
        if e.get("entity") in found
        else None
        for e in events
    ]


def append_events(conn: sqlite3.Connection, events: list[dict]) -> None:
    """Append events (dicts of EVENT_FIELDS without id) inside the caller's transaction, after
    the change they record: each carries the digest of its record as written and, when a log
    key is configured (store.anchor), a MAC of its hash."""
    if not conn.in_transaction:
        raise RuntimeError("events are written inside the change's transaction")
    last_id, previous = last_event(conn)
    key = anchor.log_key()
    chained = []
    for offset, (event, digest) in enumerate(
        zip(events, record_digests(conn, events), strict=True), start=1
    ):
        row = {f: event.get(f) for f in EVENT_FIELDS}
        row["id"] = last_id + offset
        for f in EVENT_FIELDS[1:]:  # hashed as the text the TEXT columns will give back
            if row[f] is not None:
                row[f] = str(row[f])
        row["digest"] = digest
        previous = event_hash(previous, row)
        mac = anchor.mac(key, row["id"], previous) if key else None
        chained.append((*[row[f] for f in EVENT_FIELDS], digest, previous, mac))
    write.insert_rows(conn, "events", (*EVENT_FIELDS, "digest", "hash", "mac"), chained)


def seal(conn: sqlite3.Connection, at: str, actor: str = "system") -> int:
    """Append one `sealed` event for each covered record that no event covers yet (records
    written before the log carried digests), inside the caller's transaction; returns how many.
    A record sealed says only how it stood then: what was changed before cannot be told."""
    covered = {key for key in records.latest_digests(conn)}
    sealed = [
        {"at": at, "actor": actor, "entity": entity, "entity_key": key, "action": "sealed"}
        for entity in records.existing(conn)
        for key in records.digests(conn, entity)
        if (entity, key) not in covered
    ]
    if sealed:
        append_events(conn, sealed)
    return len(sealed)


def reseal(conn: sqlite3.Connection, at: str, entity: str, why: str) -> int:
    """After a schema migration that changes the records of `entity` (a new column with its
    default), append one `migrated` event for each record now different from its latest
    event's digest, inside the migration's transaction; returns how many."""
    latest = records.latest_digests(conn)
    changed = [
        {"at": at, "actor": "system", "entity": entity, "entity_key": key, "action": "migrated",
         "reason": why}
        for key, digest in records.digests(conn, entity).items()
        if latest.get((entity, key), (None, None))[1] != digest
    ]  # fmt: skip
    if changed:
        append_events(conn, changed)
    return len(changed)


def _event_columns(conn: sqlite3.Connection) -> str:
    """The events' columns to read; a database before m009 has no digest or MAC."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    extra = [c if c in have else f"NULL AS {c}" for c in ("digest", "mac")]
    return ", ".join((*EVENT_FIELDS, "hash", *extra))


def verify_event_log(
    conn: sqlite3.Connection, key: bytes | None = None, latest: dict | None = None
) -> list[str]:
    """Findings in the event log: a broken hash chain or a gap in its numbering; with the log
    key, events without a valid MAC after the first that has one (appended or rewritten by
    someone without the key). Fills `latest`, when given, with each record's latest digest
    as records.latest_digests gives it, on the same pass."""
    findings: list[str] = []
    unkeyed: list[int] = []
    previous, expected_id, keyed = GENESIS_HASH, 1, False
    cursor = conn.execute(f"SELECT {_event_columns(conn)} FROM events ORDER BY id")
    for row in cursor:
        event = dict(row)
        if event["id"] != expected_id:
            findings.append(_("event log: event {event} is missing (next is {next})",
                              event=expected_id, next=event["id"]))  # fmt: skip
        if event_hash(previous, event) != event["hash"] and len(findings) <= 20:
            findings.append(_("event log: event {event} does not match its hash",
                              event=event["id"]))  # fmt: skip
        if key is not None:  # from the first event with a MAC on, every one needs a valid one
            keyed = keyed or event["mac"] is not None
            if keyed and not anchor.mac_ok(key, event["id"], event["hash"], event["mac"]):
                unkeyed.append(event["id"])
        if latest is not None and event["digest"] is not None:
            latest[event["entity"], event["entity_key"]] = (event["id"], event["digest"])
        previous, expected_id = event["hash"], event["id"] + 1
    if unkeyed:
        shown = ", ".join(str(i) for i in unkeyed[:10]) + (" ..." if len(unkeyed) > 10 else "")
        findings.append(
            _("event log: {count} event(s) carry no valid MAC of the log key ({shown}): "
              "appended or rewritten by someone without the key", count=len(unkeyed),
              shown=shown)
        )  # fmt: skip
    return findings


def event_at(conn: sqlite3.Connection, event_id: int) -> tuple[str, str | None] | None:
    """(hash, MAC) of one event, None when the log lacks it."""
    row = conn.execute(f"SELECT hash, {_mac_column(conn)} FROM events WHERE id = ?", (event_id,))
    found = row.fetchone()
    return (found[0], found[1]) if found else None


def has_digests(conn: sqlite3.Connection) -> bool:
    """Whether the events carry record digests (the schema is m009 or later)."""
    return "digest" in {r[1] for r in conn.execute("PRAGMA table_info(events)")}


def _mac_column(conn: sqlite3.Connection) -> str:
    have = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    return "mac" if "mac" in have else "NULL"


def unsigned_after(conn: sqlite3.Connection, event_id: int) -> int:
    """How many events after `event_id` carry no MAC."""
    return scalar(conn, f"SELECT count(*) FROM events WHERE id > ? AND {_mac_column(conn)} "
                  "IS NULL", (event_id,))  # fmt: skip


def newest_signed(conn: sqlite3.Connection) -> int:
    """The id of the newest event that carries a MAC (0: none does)."""
    return scalar(conn, f"SELECT max(id) FROM events WHERE {_mac_column(conn)} IS NOT NULL") or 0


def events_for(conn: sqlite3.Connection, entity: str, key: str) -> list[dict]:
    return rows(
        conn,
        "SELECT * FROM events WHERE entity = ? AND entity_key = ? ORDER BY id",
        (entity, key),
    )
