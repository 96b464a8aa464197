"""The records the event log covers, each read in one canonical form and digested.

Every event about a covered record carries the digest of that record as it stood when the event
was written (inside the change's transaction), and the digest is part of the event's hash. So
the latest event of each record says what the record must look like now: `check` recomputes
every record's digest and names each record that differs from what its latest event says (an
edit that bypassed the use cases), has no event at all (a row inserted directly), or is gone
while its events say it exists (a row deleted directly).

A record is its row plus the rows that belong to it alone (its links and its child rows): a
decision with its organisations, deciders and versions; a demo with its decisions, invitees and
attendees; an expert with domains, roles and forum memberships; and so on. Settings are not
covered (the demo sets them without events); a changed approval rule shows as stored stages
that differ from the evidence."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from decisions.i18n import _

ABSENT = "absent"  # the digest of a record that does not exist (deleted, or never written)
_CHUNK = 500  # keys per IN (...) list
_ALL_ABOVE = 2_000  # more keys than this: read the whole table and keep the ones asked for


@dataclass(frozen=True)
class Record:
    table: str
    key: tuple[str, ...]  # the columns of its key; a composite key is written "a:b"
    parts: tuple[tuple[str, str], ...] = ()  # (table, column naming the owner) of its own rows
    not_content: tuple[str, ...] = ()  # its columns that change without an event


COVERED: dict[str, Record] = {
    "organization": Record("organizations", ("code",)),
    "domain": Record("domains", ("code",)),
    "forum": Record("forums", ("code",), (("forum_domains", "forum"),)),
    "module": Record("modules", ("code",)),
    "wave": Record("waves", ("code",), (("wave_organizations", "wave"), ("wave_replans", "wave"))),
    "expert": Record(
        "experts",
        ("email",),
        (("expert_domains", "expert"), ("expert_roles", "expert"), ("forum_members", "expert")),
    ),
    "decision": Record(
        "decisions",
        ("key",),
        (
            ("decision_organizations", "decision"),
            ("decision_deciders", "decision"),
            ("decision_versions", "decision"),
        ),
    ),
    "demo": Record(
        "demos",
        ("key",),
        (("demo_decisions", "demo"), ("demo_invitees", "demo"), ("demo_attendees", "demo")),
    ),
    "approval": Record("approvals", ("id",)),
    "test_case": Record("test_cases", ("key",), (("test_case_decisions", "test_case"),)),
    "defect": Record("defects", ("key",)),
    "test_run": Record("test_runs", ("id",)),
    "criterion": Record("criteria", ("wave", "code")),
    "measurement": Record("measurements", ("id",)),
    "notice": Record(
        "notices",
        ("id",),
        not_content=(
            "sent_at",
            "attempts",
            "last_error",
            "next_try_at",
            "claimed_at",
            "claimed_by",
            "held",
        ),
    ),
    "go_no_go": Record("go_no_go", ("id",)),
}


def existing(conn: sqlite3.Connection) -> list[str]:
    """The covered entities whose table exists (a migration sealing records runs before the
    migrations that add later tables)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [entity for entity, record in COVERED.items() if record.table in tables]


# Not part of a record's content: the optimistic-concurrency counter, which a save that changes
# nothing still bumps.
NOT_COVERED_COLUMNS = {"row_version"}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _select(
    conn: sqlite3.Connection,
    table: str,
    first: tuple[str, ...],
    keys: list | None,
    *,
    ordered: bool = False,
    skip: tuple[str, ...] = (),
) -> Iterable[tuple]:
    """Rows of `table` as plain tuples, the columns `first` first, then the others (less
    NOT_COVERED_COLUMNS and `skip`); all rows, or those whose first column is one of `keys`.
    `ordered`: by all columns in that order (a record's own rows in one canonical order)."""
    left_out = {*first, *NOT_COVERED_COLUMNS, *skip}
    columns = [*first, *(c for c in _columns(conn, table) if c not in left_out)]
    sql = f"SELECT {', '.join(columns)} FROM {table}"
    order = f" ORDER BY {', '.join(columns)}" if ordered else ""
    cursor = conn.cursor()
    cursor.row_factory = None  # tuples: the bulk read is several times faster than with Row
    if keys is None:
        return cursor.execute(sql + order)
    return itertools.chain.from_iterable(
        cursor.execute(f"{sql} WHERE {first[0]} IN ({', '.join('?' * len(chunk))}){order}",
                     chunk).fetchall()
        for chunk in (keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK))
    )  # fmt: skip


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(value: object) -> str:
    return hashlib.sha256(_CANONICAL.encode(value).encode()).hexdigest()


def digests(
    conn: sqlite3.Connection, entity: str, keys: Iterable[str] | None = None
) -> dict[str, str]:
    """{entity_key: digest} of the covered records of `entity` that exist, all of them or
    those with the given keys (a key that names no record is left out)."""
    record = COVERED[entity]
    wanted = None if keys is None else list(dict.fromkeys(str(k) for k in keys))
    if wanted is not None and not wanted or not _columns(conn, record.table):
        return {}  # nothing asked, or a table a later migration makes
    read_all = wanted is None or len(wanted) > _ALL_ABOVE or len(record.key) > 1
    ask = None if read_all else wanted
    if ask is not None and record.key == ("id",):
        ask = [int(k) for k in ask if k.isdigit()]
    keep = None if wanted is None else set(wanted)
    width = len(record.key)
    rows: dict[str, list] = {}
    for row in _select(conn, record.table, record.key, ask, skip=record.not_content):
        key = str(row[0]) if width == 1 else ":".join(str(v) for v in row[:width])
        if keep is None or key in keep:
            rows[key] = [record.table, row]
    for table, owner in record.parts:
        parts: dict[str, list] = defaultdict(list)
        asked = None if read_all else list(rows)
        for row in _select(conn, table, (owner,), asked, ordered=True):
            parts[row[0]].append(row[1:])  # owners are text keys (codes, emails, keys)
        for key, canonical in rows.items():
            canonical.append([table, parts.get(key, [])])
    return {key: _digest(canonical) for key, canonical in rows.items()}


def latest_digests(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[int, str]]:
    """{(entity, entity_key): (event id, digest)} of each record's latest event with a digest."""
    return {
        (r[0], r[1]): (r[3], r[2])
        for r in conn.execute(
            "SELECT entity, entity_key, digest, max(id) FROM events "
            "WHERE digest IS NOT NULL GROUP BY entity, entity_key"
        )
    }


def findings(conn: sqlite3.Connection, latest: dict | None = None) -> list[str]:
    """Each covered record that differs from its latest event's digest, has no event, or was
    deleted while its latest event says it exists. `latest`: latest_digests, when the caller
    has read them already (store.verify_event_log gathers them on its way)."""
    latest = latest_digests(conn) if latest is None else latest
    by_entity: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for (entity, key), logged in latest.items():
        by_entity[entity][key] = logged
    findings: list[str] = []
    for entity, record in COVERED.items():
        found = _differences(conn, entity, record, by_entity[entity])
        findings += found[:SHOWN]
        if len(found) > SHOWN:
            findings.append(_("records: ... and {count} more records of {table} like those",
                              count=len(found) - SHOWN, table=record.table))  # fmt: skip
    return findings


SHOWN = 20  # findings named per table


def _differences(
    conn: sqlite3.Connection, entity: str, record: Record, latest: dict[str, tuple[int, str]]
) -> list[str]:
    """`latest`: {entity_key: (event id, digest)} of this entity's records."""
    findings: list[str] = []
    current = digests(conn, entity)
    where = f"{record.table} {'+'.join(record.key)}"
    for key, digest in current.items():
        logged = latest.get(key)
        if logged is None:
            findings.append(_("records: {where} {key} has no event that covers it (written "
                              "directly into the database?)", where=where, key=key))  # fmt: skip
        elif logged[1] != digest:
            findings.append(_("records: {where} {key} differs from the record its latest event "
                              "({event}) covers (changed directly in the database?)",
                              where=where, key=key, event=logged[0]))  # fmt: skip
    for key, (event_id, digest) in latest.items():
        if key not in current and digest != ABSENT:
            findings.append(_("records: {where} {key} is gone, but its latest event ({event}) "
                              "says it exists (deleted directly in the database?)",
                              where=where, key=key, event=event_id))  # fmt: skip
    return findings
