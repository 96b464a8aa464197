"""Bulk inserts for generated programmes: many rows of one table in one executemany, inside
the caller's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def insert_many(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], values: Iterable[Sequence]
) -> None:
    """INSERT every row of `values` (in `columns` order) into `table`."""
    if table not in table_names(conn):
        raise ValueError(f"no table {table!r}")
    if not conn.in_transaction:
        raise RuntimeError("bulk inserts run inside the caller's transaction")
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        values,
    )


def row_counts(conn: sqlite3.Connection, tables: Sequence[str]) -> dict[str, int]:
    known = table_names(conn)
    return {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables if t in known
    }


@contextmanager
def large_cache(conn: sqlite3.Connection, megabytes: int = 256) -> Iterator[None]:
    """A bigger page cache while bulk inserts fill the indexes, which otherwise spill to disk
    page by page once they outgrow SQLite's default 2 MB."""
    old = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{megabytes * 1024}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(old)}")
