"""Queries on the reference lists and the directory: organisations, domains, forums, modules,
waves, experts and their links."""

from __future__ import annotations

import sqlite3

from decisions.store import rows, scalar, write

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


def has_rows(conn: sqlite3.Connection, table: str) -> bool:
    """Whether a reference table holds any row."""
    if table not in TABLES:
        raise ValueError(f"not a reference table: {table}")
    return bool(scalar(conn, f"SELECT EXISTS (SELECT 1 FROM {table})"))


def unknown_codes(conn: sqlite3.Connection, table: str, codes: list[str]) -> list[str]:
    """The codes not in a reference list that has codes (organizations, domains, ...)."""
    if table not in CODED:
        raise ValueError(f"not a reference list: {table}")
    known = {r[0] for r in conn.execute(f"SELECT code FROM {table}")}
    return [c for c in codes if c not in known]


def module_domain(conn: sqlite3.Connection, module: str) -> str | None:
    """The domain a module belongs to (None: no such module)."""
    return scalar(conn, "SELECT domain FROM modules WHERE code = ?", (module,))


def unknown_emails(conn: sqlite3.Connection, emails: list[str]) -> list[str]:
    """The emails not in the directory."""
    marks = ", ".join("?" * len(emails))
    known = {
        r[0] for r in conn.execute(f"SELECT email FROM experts WHERE email IN ({marks})", emails)
    }
    return [e for e in emails if e not in known]
