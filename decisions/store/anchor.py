"""The event log's anchor outside the database file.

Anyone who can write the file can rewrite the log and recompute every hash (the hash function is
public), or delete its last events. Two things that live outside the file catch that:

- the log key, a secret in the environment (`DECISIONS_LOG_KEY`) or in the secrets
  (`[log] key` in `.streamlit/secrets.toml`), never in the database: every event appended with
  the key carries a MAC of its hash, which no one without the key can make;
- head files (`DEST.head.json` beside each backup, or `check --anchor FILE`): the last event's
  id and hash at that moment, with their MAC. The log must still hold that event with that
  hash, so a log cut short or rewritten before the head shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tomllib
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

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


def head_record(event_id: int, event_hash: str, key: bytes | None, database: str) -> dict:
    return {
        "database": database,
        "event_id": event_id,
        "hash": event_hash,
        "mac": mac(key, event_id, event_hash) if key else None,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_head(path: str | os.PathLike, head: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(head, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def read_head(path: str | os.PathLike) -> dict:
    try:
        head = json.loads(Path(path).read_text(encoding="utf-8"))
        int(head["event_id"]), str(head["hash"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise HeadUnreadable(
            f"{path}: not a head file (expected JSON with event_id and hash): {error}"
        ) from error
    return head


def head_findings(
    name: str, head: dict, key: bytes | None, last_id: int, hash_at_head: str | None
) -> tuple[list[str], list[str]]:
    """(findings, notes) of the log against a head file: the log must hold the head's event
    with the head's hash; with the key, the head's MAC must be the key's."""
    findings: list[str] = []
    notes: list[str] = []
    head_id, head_hash = int(head["event_id"]), str(head["hash"])
    if key is not None and head.get("mac") is not None:
        if not mac_ok(key, head_id, head_hash, head.get("mac")):
            findings.append(f"head {name}: its MAC is not the log key's (a forged head file, "
                            "or another key)")  # fmt: skip
    elif key is not None:
        notes.append(f"head {name}: carries no MAC (written without the log key)")
    if head_id == 0:
        return findings, notes
    if hash_at_head is None and last_id < head_id:
        findings.append(f"event log: ends at event {last_id}, before event {head_id} of the "
                        f"head {name} (events were deleted from the end)")  # fmt: skip
    elif hash_at_head is None:
        findings.append(f"event log: event {head_id} of the head {name} is missing")
    elif hash_at_head != head_hash:
        findings.append(f"event log: event {head_id} no longer has the hash of the head {name} "
                        "(the log was rewritten up to there)")  # fmt: skip
    return findings, notes
