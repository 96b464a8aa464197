"""Writing the site so that publishing again writes only what changed: a manifest in the output
folder holds the digest of every file the last run wrote; a file is written when its bytes
differ (or it went missing), removed when the site no longer has it, and left alone otherwise.
Each write goes to a temporary file renamed into place, so the web server never serves half a
page. Files the log did not write are never touched."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from decisions.i18n import _

MANIFEST = ".published.json"
LOCK = ".publish.lock"


class Busy(RuntimeError):
    """Another run is writing the same folder (an hourly job that overran)."""


@contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold the folder's lock while writing it; a second run at once is refused, not mixed in."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a") as handle:  # appending leaves the file's time alone
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(_("another publish is writing {path}; nothing written", path=out)) from None
        yield


@dataclass
class Changes:
    """What a run writes (new or changed files) and removes, by path in the site."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def written(self) -> list[str]:
        return sorted(self.new + self.changed)

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(out: Path) -> dict[str, str]:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def compare(out: Path, files: dict[str, bytes], manifest: dict[str, str],
            keep: tuple[str, ...] = ()) -> Changes:  # fmt: skip
    """What writing `files` into `out` changes, given the last run's `manifest`; paths under
    a prefix in `keep` that `files` lacks are kept as they are (the search index when no page
    changed)."""
    changes = Changes()
    for path, data in files.items():
        before = manifest.get(path)
        if before is None:
            changes.new.append(path)
        elif before != digest(data) or not (out / path).is_file():
            changes.changed.append(path)
        else:
            changes.unchanged += 1
    for path in manifest:
        if path not in files:
            if path.startswith(keep):
                changes.unchanged += 1
            else:
                changes.removed.append(path)
    changes.removed.sort()
    return changes


def apply(out: Path, files: dict[str, bytes], changes: Changes, manifest: dict[str, str]) -> None:
    """Write and remove what `changes` says, then the manifest."""
    for path in changes.written:
        _write(out / path, files[path])
        manifest[path] = digest(files[path])
    for path in changes.removed:
        (out / path).unlink(missing_ok=True)
        manifest.pop(path, None)
        _remove_empty_folders(out, (out / path).parent)
    _write(out / MANIFEST, json.dumps(manifest, sort_keys=True, indent=0).encode())


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def _remove_empty_folders(out: Path, folder: Path) -> None:
    while folder != out and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
