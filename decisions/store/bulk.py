"""Helpers for generated programmes: row counts, and a larger page cache while store.write's
bulk inserts fill the indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


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
