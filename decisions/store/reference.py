"""Queries on the reference lists and the directory: organisations, domains, forums, modules,
waves, experts and their links."""

from __future__ import annotations

import sqlite3

from decisions.store import rows, write

TABLES = (
    "organizations", "domains", "forums", "forum_domains", "modules", "waves",
    "wave_organizations", "experts", "expert_domains", "expert_roles", "forum_members",
)  # fmt: skip


def insert_rows(conn: sqlite3.Connection, table: str, records: list[dict]) -> None:
    """Insert plain records into one of the reference tables."""
    if table not in TABLES:
        raise ValueError(f"not a reference table: {table}")
    write.insert(conn, table, records)


CODED = ("organizations", "domains", "forums", "modules", "waves")  # listed by code


def list_table(conn: sqlite3.Connection, table: str) -> list[dict]:
    """Rows of a reference table; the lists with a code in order of it."""
    if table not in TABLES:
        raise ValueError(f"not a reference table: {table}")
    return rows(conn, f"SELECT * FROM {table}" + (" ORDER BY code" if table in CODED else ""))
