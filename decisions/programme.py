"""A new programme: the default reference lists (domains, forums, modules) kept as CSV files
under data/, loaded into an empty database with their events."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from decisions import store
from decisions.i18n import _
from decisions.model import SYSTEM_ACTOR, Actor, WorkflowError
from decisions.services import event, now
from decisions.store import reference

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
REFERENCE_FILES = ("domains", "forums", "modules")


def read_reference_lists(folder: Path = DATA_DIR) -> dict[str, list[dict]]:
    """The default lists as table rows: domains, forums, forum_domains and modules."""
    lists = {}
    for kind in REFERENCE_FILES:
        with open(folder / f"{kind}.csv", encoding="utf-8-sig", newline="") as file:
            lists[kind] = [
                {k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(file)
            ]
    forums = lists["forums"]
    lists["forum_domains"] = [
        {"forum": f["code"], "domain": d.strip()}
        for f in forums
        for d in f.pop("domains", "").split(";")
        if d.strip()
    ]
    for forum in forums:
        forum["level"] = int(forum["level"])
    return lists


def reference_lists_present(conn: sqlite3.Connection) -> bool:
    return any(reference.has_rows(conn, table) for table in REFERENCE_FILES)


def insert_reference_lists(
    conn: sqlite3.Connection, lists: dict[str, list[dict]], actor: Actor, at: str
) -> list[dict]:
    """Insert the lists inside the caller's transaction; returns their 'created' events."""
    for table in ("domains", "forums", "forum_domains", "modules"):
        reference.insert_rows(conn, table, lists[table])
    return [
        event(actor, at, kind.removesuffix("s"), row["code"], "created", None, row["name"])
        for kind in REFERENCE_FILES
        for row in lists[kind]
    ]


def init_reference_lists(conn: sqlite3.Connection, folder: Path = DATA_DIR) -> dict[str, int]:
    """Fill an empty database with the default reference lists, in one transaction.
    Returns how many of each were created."""
    lists = read_reference_lists(folder)
    with store.transaction(conn):
        if reference_lists_present(conn) or not store.is_empty(conn):
            raise WorkflowError(_("the database holds a programme already; not overwritten"))
        store.append_events(conn, insert_reference_lists(conn, lists, SYSTEM_ACTOR, now(conn)))
    return {kind: len(lists[kind]) for kind in REFERENCE_FILES}
