"""The one way the store writes rows: insert, upsert, save (insert or versioned update),
versioned update, update and delete by key, replace links. Every write of the query modules,
the event log (store.append_events), the settings (store.put_setting), the import and the demo
goes through these, inside the caller's transaction; only a read's scratch tables (temp.*) are
written elsewhere."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence

# Tables whose rows carry a row version for optimistic concurrency.
VERSIONED = {
    "waves",
    "experts",
    "forums",
    "decisions",
    "demos",
    "test_cases",
    "defects",
    "criteria",
}


def _insert_sql(table: str, columns: Sequence[str], conflict: str = "") -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){conflict}"


def insert_rows(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], values: Iterable[Sequence]
) -> None:
    """Insert rows given as tuples in `columns` order, in one batch (the bulk path)."""
    conn.executemany(_insert_sql(table, columns), values)


def insert(conn: sqlite3.Connection, table: str, records: Sequence[Mapping]) -> None:
    """Insert plain records, all with the same keys, in one batch."""
    if records:
        columns = list(records[0])
        insert_rows(conn, table, columns, ([r[c] for c in columns] for r in records))


def insert_one(conn: sqlite3.Connection, table: str, record: Mapping) -> int:
    """Insert one record; returns its rowid (the `id` of tables numbered by SQLite)."""
    columns = list(record)
    return conn.execute(_insert_sql(table, columns), [record[c] for c in columns]).lastrowid


def insert_numbered(conn: sqlite3.Connection, table: str, records: Sequence[Mapping]) -> list[int]:
    """Insert records of a table with an INTEGER PRIMARY KEY `id` in one batch; returns their
    ids in order. Inside the caller's write transaction each new row takes max(id) + 1 (the
    table has no AUTOINCREMENT), so the ids follow from the largest before."""
    if not records:
        return []
    first = (conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0) + 1
    insert(conn, table, records)
    return list(range(first, first + len(records)))


def upsert(
    conn: sqlite3.Connection, table: str, records: Sequence[Mapping], key: tuple[str, ...]
) -> None:
    """Insert records, or update the ones whose key exists (bumping their row version)."""
    if not records:
        return
    columns = list(records[0])
    updates = [f"{c} = excluded.{c}" for c in columns if c not in key]
    if table in VERSIONED:
        updates.append(f"row_version = {table}.row_version + 1")
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    conn.executemany(
        _insert_sql(table, columns, f" ON CONFLICT ({', '.join(key)}) {action}"),
        [[r[c] for c in columns] for r in records],
    )


def update_versioned(
    conn: sqlite3.Connection,
    table: str,
    where: Mapping,
    changes: Mapping,
    expected_row_version: int | None = None,
) -> bool:
    """Apply `changes` to the row matching `where` and bump its row version; False when no
    row matched, or its row version was not `expected_row_version` (someone else saved first)."""
    assignments = "".join(f"{c} = ?, " for c in changes)
    conditions = " AND ".join(f"{c} = ?" for c in where)
    sql = f"UPDATE {table} SET {assignments}row_version = row_version + 1 WHERE {conditions}"
    params = [*changes.values(), *where.values()]
    if expected_row_version is not None:
        sql += " AND row_version = ?"
        params.append(expected_row_version)
    return conn.execute(sql, params).rowcount == 1


def update_where(conn: sqlite3.Connection, table: str, where: Mapping, changes: Mapping) -> None:
    """Apply `changes` to the rows matching `where` (tables without a row version)."""
    sets = ", ".join(f"{c} = ?" for c in changes)
    conn.execute(
        f"UPDATE {table} SET {sets} WHERE {' AND '.join(f'{c} = ?' for c in where)}",
        [*changes.values(), *where.values()],
    )


def update_while(
    conn: sqlite3.Connection,
    table: str,
    where: Mapping,
    changes: Mapping,
    condition: str,
    params: Mapping,
) -> bool:
    """Apply `changes` to the row matching `where` only while the SQL `condition` (with its
    named `params`) holds, as one statement; False when it no longer held (another writer came
    first)."""
    sets = ", ".join(f"{c} = :set_{c}" for c in changes)
    matches = " AND ".join(f"{c} = :where_{c}" for c in where)
    values = {f"set_{c}": v for c, v in changes.items()} | {
        f"where_{c}": v for c, v in where.items()
    }
    sql = f"UPDATE {table} SET {sets} WHERE {matches} AND {condition}"
    return conn.execute(sql, values | dict(params)).rowcount == 1


def clear(conn: sqlite3.Connection, table: str) -> None:
    """Delete every row of `table` (a derived table about to be filled again)."""
    conn.execute(f"DELETE FROM {table}")


def delete_where(conn: sqlite3.Connection, table: str, where: Mapping) -> None:
    conditions = " AND ".join(f"{column} = ?" for column in where)
    conn.execute(f"DELETE FROM {table} WHERE {conditions}", list(where.values()))


def save(
    conn: sqlite3.Connection,
    table: str,
    key_column: str,
    record: Mapping,
    expected_row_version: int | None = None,
    links: Mapping[tuple[str, str, str], Iterable] | None = None,
) -> bool:
    """Insert `record`, or update the row with its key when the row version matches, and set
    its `links` ({(link table, column of this row's key, member column): members}) to exactly
    the given members. False when stale (then nothing is written)."""
    key = record[key_column]
    if conn.execute(f"SELECT 1 FROM {table} WHERE {key_column} = ?", (key,)).fetchone() is None:
        insert_one(conn, table, record)
    else:
        changes = {c: v for c, v in record.items() if c != key_column}
        if not update_versioned(conn, table, {key_column: key}, changes, expected_row_version):
            return False
    for (link_table, owner, member), members in (links or {}).items():
        replace_links(conn, link_table, owner, member, {key: members})
    return True


def replace_links(
    conn: sqlite3.Connection, table: str, owner: str, member: str, links: Mapping[str, Iterable]
) -> None:
    """Set each owner's members in a link table to exactly the given list (duplicates once)."""
    if not links:
        return
    conn.executemany(f"DELETE FROM {table} WHERE {owner} = ?", [(o,) for o in links])
    insert_rows(
        conn,
        table,
        (owner, member),
        [(o, m) for o, members in links.items() for m in dict.fromkeys(members)],
    )
