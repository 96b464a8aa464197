"""Backups: a consistent online copy of the database, taken while the app writes, and checked
before it is handed over."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from decisions import permissions, services, store
from decisions.i18n import _
from decisions.model import SYSTEM_ACTOR, Actor
from decisions.store import anchor, transfer


class BackupFailed(Exception):
    pass


def backup(
    conn: sqlite3.Connection, dest: str | os.PathLike, *, actor: Actor = SYSTEM_ACTOR
) -> Path:
    """Copy the database to `dest` as of one moment (VACUUM INTO runs in a single read
    transaction, so writers carry on and the copy holds whole transactions only), then run
    the integrity checks on the copy. Refuses to overwrite a file."""
    permissions.check(actor, "backup")
    dest = Path(dest)
    if dest.exists():
        raise BackupFailed(_("{path} exists already; choose a new name", path=dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(handle)
    os.unlink(partial)  # VACUUM INTO writes only into a file that does not exist
    try:
        transfer.vacuum_into(conn, Path(partial))
        findings = check_copy(Path(partial))
        if findings:
            raise BackupFailed(_("the copy fails its check: {findings}",
                                 findings="; ".join(findings[:5])))  # fmt: skip
        last_id, last_hash, signed = _last_event(Path(partial))
        head = anchor.head_record(last_id, last_hash, anchor.log_key(), str(dest),
                                  event_signed=signed)  # fmt: skip
        transfer.use_rollback_journal(Path(partial))  # opens read-only from a read-only share
        os.replace(partial, dest)
        anchor.write_head(head_path(dest), head)
    finally:
        for leftover in (partial, partial + "-wal", partial + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return dest


def head_path(dest: str | os.PathLike) -> Path:
    """Where a backup's head file goes: DEST.head.json beside it. The log of the database it
    was taken from must go on holding that head (`check --head`)."""
    return Path(f"{dest}.head.json")


def _last_event(path: Path) -> tuple[int, str, bool]:
    """The copy's last event: id, hash, and whether it carries a MAC."""
    copy = store.connect(path, migrate=False)
    try:
        last_id, last_hash = store.last_event(copy)
        return last_id, last_hash, bool(last_id) and store.event_at(copy, last_id)[1] is not None
    finally:
        copy.close()


def check_copy(path: Path) -> list[str]:
    copy = store.connect(path, migrate=False)
    try:
        return services.check(copy)
    finally:
        copy.close()


def backup_bytes(conn: sqlite3.Connection, *, actor: Actor = SYSTEM_ACTOR) -> bytes:
    """A checked backup as bytes, for a download."""
    with tempfile.TemporaryDirectory() as folder:
        return backup(conn, Path(folder) / "backup.db", actor=actor).read_bytes()


def backup_from(db_path: Path, *, actor: Actor) -> bytes:
    """`backup_bytes` on a connection of its own (for a download prepared on another thread)."""
    conn = store.connect(db_path, migrate=False)
    try:
        return backup_bytes(conn, actor=actor)
    finally:
        conn.close()
