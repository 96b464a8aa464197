"""The event log's anchor outside the database file.

Anyone who can write the file can rewrite the log and recompute every hash (the hash function is
public), or delete its last events. Two things that live outside the file catch that:

- the log key, a secret in the environment (`DECISIONS_LOG_KEY`) or in the secrets
  (`[log] key` in `.streamlit/secrets.toml`), never in the database: every event appended with
  the key carries a MAC of its hash, which no one without the key can make;
- head files (`DEST.head.json` beside each backup, or `check --anchor FILE`): the last event's
  id and hash at that moment, with their MAC. The log must still hold that event with that
  hash, so a log cut short or rewritten before the head shows.

With the key, every change also moves the database's own head (`DB.head.json` beside it) in
step with its commit, so the log can never end before it (a cut tail), and its signed event
tells that the log was keyed from there on (MACs stripped afterwards show).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from decisions.i18n import _

KEY_ENV = "DECISIONS_LOG_KEY"
SECRETS = Path(".streamlit") / "secrets.toml"
PROJECT = Path(__file__).resolve().parents[2]


class HeadUnreadable(Exception):
    pass


@lru_cache(maxsize=8)
def _secrets_key(path: Path, mtime: float) -> str | None:
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("log") or {}
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return str(section.get("key") or "") or None


def log_key() -> bytes | None:
    """$DECISIONS_LOG_KEY, else `[log] key` in .streamlit/secrets.toml (of the working folder,
    else of the project), else None."""
    value = os.environ.get(KEY_ENV)
    if not value:
        for path in (Path.cwd() / SECRETS, PROJECT / SECRETS):
            if path.is_file():
                value = _secrets_key(path, path.stat().st_mtime)
                if value:
                    break
    return value.encode() if value else None


def mac(key: bytes, event_id: int, event_hash: str) -> str:
    return hmac.new(key, f"{event_id}:{event_hash}".encode(), hashlib.sha256).hexdigest()


def mac_ok(key: bytes, event_id: int, event_hash: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(mac(key, event_id, event_hash), given)


def head_record(
    event_id: int, event_hash: str, key: bytes | None, database: str, *, event_signed: bool = True
) -> dict:
    """A head file's content. With the key, a head taken at an event that carries no MAC
    (written before the key was set) says so under the key (`unsigned_event`), so that no one
    without it can pass off a log stripped of its MACs as one that never had them."""
    head = {
        "database": database,
        "event_id": event_id,
        "hash": event_hash,
        "mac": mac(key, event_id, event_hash) if key else None,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if key and not event_signed:
        head["unsigned_event"] = mac(key, event_id, f"{event_hash}:unsigned")
    return head


def _says_unsigned(key: bytes, head: dict) -> bool:
    given = head.get("unsigned_event")
    return given is not None and hmac.compare_digest(
        mac(key, int(head["event_id"]), f"{head['hash']}:unsigned"), str(given)
    )


def write_head(path: str | os.PathLike, head: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(head, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def advance_head(path: str | os.PathLike, head: dict) -> Path:
    """Write `head` to `path` unless the file there already holds a later event (a change
    committed since moved it on)."""
    try:
        if int(read_head(path)["event_id"]) > int(head["event_id"]):
            return Path(path)
    except HeadUnreadable:
        pass
    return write_head(path, head)


def read_head(path: str | os.PathLike) -> dict:
    try:
        head = json.loads(Path(path).read_text(encoding="utf-8"))
        int(head["event_id"]), str(head["hash"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise HeadUnreadable(
            _("{path}: not a head file (expected JSON with event_id and hash): {error}",
              path=path, error=error)
        ) from error  # fmt: skip
    return head


def own_head_path(database: str | os.PathLike) -> Path:
    """The database's own head, which every change moves when the log key is set."""
    return Path(f"{database}.head.json")


@contextmanager
def head_lock(database: str, *, exclusive: bool) -> Iterator[None]:
    """A commit that moves the database's own head holds this exclusively from its COMMIT
    until the head is written; `check` holds it shared while it takes its snapshot of the log
    and reads the head, so it never sees one without the other. A database on a read-only
    share has no writers to wait for."""
    try:
        lock = open(f"{database}.head.lock", "a")  # noqa: SIM115 (held for the block)
    except OSError:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


@dataclass(frozen=True)
class LogEnd:
    """What a head is held against: the log's last event, its newest event with a MAC (0:
    none), the event the head names (its hash and MAC; None when the log lacks it), and how
    many events after it carry no MAC."""

    last_id: int
    newest_signed: int
    at_head: tuple[str, str | None] | None
    unsigned_after: int = 0


def head_findings(
    name: str, head: dict, key: bytes | None, log: LogEnd, *, own: bool = False
) -> list[str]:
    """Findings of the log against a head file: the log must hold the head's event with the
    head's hash; with the key, the head must carry the key's MAC, and its event too (once an
    event carries a MAC every later one must, so stripped MACs show). The database's own head
    (`own`) must also be at least as new as the newest event with a MAC."""
    findings: list[str] = []
    head_id, head_hash = int(head["event_id"]), str(head["hash"])
    if key is not None and head.get("mac") is None:
        findings.append(_("head {name}: carries no MAC of the log key, which is set (a head "
                          "written without the key, or rewritten)", name=name))  # fmt: skip
    elif key is not None and not mac_ok(key, head_id, head_hash, head.get("mac")):
        findings.append(_("head {name}: its MAC is not the log key's (a forged head file, "
                          "or another key)", name=name))  # fmt: skip
    elif (key is not None and log.at_head and not mac_ok(key, head_id, *log.at_head)
          and not _says_unsigned(key, head)):  # fmt: skip
        findings.append(_("event log: event {event} carries no valid MAC, though the head "
                          "{name} was signed there (MACs stripped)", event=head_id,
                          name=name))  # fmt: skip
    if key is not None and head.get("mac") is not None and log.unsigned_after:
        findings.append(_("event log: {count} event(s) after event {event} of the signed "
                          "head {name} carry no MAC (MACs stripped, or appended without the "
                          "key)", count=log.unsigned_after, event=head_id, name=name))  # fmt: skip
    if own and key is not None and head_id < log.newest_signed:
        findings.append(_("head {name}: at event {event}, older than event {newest}, the "
                          "newest with a MAC (every change moves it: an older head was put "
                          "back)", name=name, event=head_id, newest=log.newest_signed))  # fmt: skip
    if head_id == 0:
        return findings
    if log.at_head is None and log.last_id < head_id:
        findings.append(_("event log: ends at event {last}, before event {event} of the head "
                          "{name} (events were deleted from the end)", last=log.last_id,
                          event=head_id, name=name))  # fmt: skip
    elif log.at_head is None:
        findings.append(_("event log: event {event} of the head {name} is missing",
                          event=head_id, name=name))  # fmt: skip
    elif log.at_head[0] != head_hash:
        findings.append(_("event log: event {event} no longer has the hash of the head {name} "
                          "(the log was rewritten up to there)", event=head_id,
                          name=name))  # fmt: skip
    return findings
