"""Import: read and check whole files, then write every row of every file in one transaction
through the workflow rules (events, versions and derived stages as if entered by hand), or
write nothing. A dry run does all of it on a private in-memory copy of the database and
throws the copy away, which is also the page's preview: it never takes the write lock, so
other people's changes go on meanwhile. A real import first does the same check on a copy
(files that fail it never take the lock), then runs again in one transaction on the database,
where every row is checked again against what is there by then."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from decisions import permissions, settings, store
from decisions.i18n import _
from decisions.io import formats
from decisions.io.apply import Applier
from decisions.io.kinds import (
    KINDS,
    ORDER,
    Issue,
    Kind,
    Row,
    check_header,
    guess_kind,
    kind_or_none,
    parse_rows,
)
from decisions.io.report import FileReport
from decisions.model import Actor, WorkflowError
from decisions.store import transfer

MAX_ERRORS = 200

Progress = Callable[[float, str], None]


@dataclass
class Source:
    """A file to import: its name (as errors name it), its bytes, and its KIND (None: guess)."""

    name: str
    data: bytes
    kind: str | None = None


@dataclass
class ImportResult:
    files: list[FileReport]
    errors: list[Issue]
    written: bool
    validate_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self, limit: int = MAX_ERRORS) -> list[str]:
        lines = [str(e) for e in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(_("... and {count} more errors", count=len(self.errors) - limit))
        return lines


class _Rollback(Exception):
    pass


@dataclass
class _File:
    source: Source
    report: FileReport
    kind: Kind
    rows: list[Row]

    @property
    def label(self) -> str:
        """The file's name without its folder, for event reasons."""
        return Path(self.source.name).name


def max_bytes(conn: sqlite3.Connection) -> int:
    """The largest file an import reads (the setting import.max_bytes)."""
    return int(settings.get(conn, settings.IMPORT_MAX_BYTES))


def import_sources(
    conn: sqlite3.Connection,
    sources: list[Source],
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    force: bool = False,
) -> ImportResult:
    """Check every file, then write all of them in dependency order in one transaction, or
    nothing (always nothing on a dry run). Imports are a manager's or admin's bulk change:
    each row goes through the workflow's rules and events as if entered by hand, with
    `actor` as the one who made the changes. `force` adds rows that nearly duplicate a
    record (a key's time within a minute of it, or its date without the time), which are
    otherwise refused."""
    permissions.check(actor, "import")
    started = time.perf_counter()
    files, errors = _read_all(
        sources, max_bytes(conn), settings.get(conn, settings.IMPORT_MAX_ROWS)
    )
    result = ImportResult([f.report for f in files], errors, written=False)
    if errors:  # whole files unreadable: no rows to check
        result.validate_seconds = time.perf_counter() - started
        return result
    progress = progress or (lambda fraction, text: None)
    if dry_run:  # a preview: on a private copy, so it never holds the write lock
        return _apply(transfer.private_copy(conn), files, actor, progress, started,
                      write=False, force=force)  # fmt: skip
    # The real thing checks every row against the database as it is, in the one transaction
    # that writes it: checking on a copy first would double an import's time.
    return _apply(conn, files, actor, progress, started, write=True, force=force)


def _apply(
    conn: sqlite3.Connection,
    files: list[_File],
    actor: Actor,
    progress: Progress,
    started: float,
    *,
    write: bool,
    force: bool = False,
) -> ImportResult:
    """Every row of `files` through the use cases in one transaction on `conn`, committed
    when `write` and nothing was refused, else rolled back."""
    result = ImportResult([f.report for f in files], [], written=False)
    applier = None
    try:
        with store.transaction(conn):
            applier = Applier(conn, actor, progress, force=force)
            applier.run(files)
            result.errors = _in_file_order(files)
            result.validate_seconds = time.perf_counter() - started - applier.write_seconds
            result.write_seconds = applier.write_seconds
            if result.errors or not write:
                raise _Rollback
    except _Rollback:
        return result
    except (sqlite3.IntegrityError, WorkflowError):  # a rule no row's check caught
        result.errors = [_refused_whole(getattr(applier, "file", None) or files[0])]
        return result
    finally:
        if not write:
            conn.close()  # the private copy
    result.written = True
    return result


def _refused_whole(file: _File) -> Issue:
    """The database refused what `file`'s rows would write, a rule no row check caught: the
    file is refused as a whole (its rows too, so no summary counts them in), in words of the
    import, never the database's."""
    message = _("the database refused what this file's rows would write, for a rule the "
                "import does not check row by row; nothing was written")  # fmt: skip
    for outcome in file.report.rows:
        if outcome.status in ("new", "updated"):
            outcome.status, outcome.errors = "rejected", [message]
    return Issue(file.source.name, 0, "", message)


def _read_all(
    sources: list[Source], limit: int, max_rows: int = formats.MAX_ROWS
) -> tuple[list[_File], list[Issue]]:
    files: list[_File] = []
    errors: list[Issue] = []
    seen_kinds: dict[str, str] = {}
    for source in sources:
        report = FileReport(source.name, source.kind)
        try:
            table = formats.read_table(source.name, source.data, max_bytes=limit, max_rows=max_rows)
        except formats.FileRejected as rejected:
            errors.append(Issue(source.name, 0, "", str(rejected)))
            files.append(_File(source, report, KINDS[ORDER[0]], []))
            continue
        report.detected, report.notes = table.detected, table.notes
        kind_name = source.kind or guess_kind(table.header) or Path(source.name).stem
        kind = kind_or_none(kind_name or "")
        if kind is None:
            what = (_("unknown KIND {kind}", kind=repr(source.kind)) if source.kind
                    else _("cannot tell the KIND"))  # fmt: skip
            errors.append(Issue(source.name, 1, "", _("{what}; expected one of {kinds}",
                                                      what=what, kinds=", ".join(ORDER))))  # fmt: skip
            files.append(_File(source, report, KINDS[ORDER[0]], []))
            continue
        report.kind = kind.name
        if kind.name in seen_kinds:
            errors.append(Issue(source.name, 0, "", _("{kind} also comes from {other}; import "
                                "one file per KIND", kind=kind.name,
                                other=seen_kinds[kind.name])))  # fmt: skip
        seen_kinds[kind.name] = source.name
        header_issues = check_header(kind, table.header, source.name)
        errors += header_issues
        rows = [] if header_issues else parse_rows(kind, table, source.name,
                                                   norwegian=table.norwegian)  # fmt: skip
        _flag_duplicates(kind, rows, source.name)
        files.append(_File(source, report, kind, rows))
    files.sort(key=lambda f: ORDER.index(f.kind.name))
    return files, errors


def _in_file_order(files: list[_File]) -> list[Issue]:
    """Every row's errors, from reading its cells and from the workflow rules, by file and
    row."""
    return [issue for f in files for row in f.rows for issue in row.errors]


def _flag_duplicates(kind: Kind, rows: list[Row], file: str) -> None:
    first: dict[tuple, int] = {}
    for row in rows:
        if row.errors:
            continue
        key = row.key(kind)
        if key in first:
            shown = "/".join(str(k) for k in key)
            row.errors.append(Issue(file, row.number, "/".join(kind.key),
                                    _("duplicate key {key}: also on row {row}", key=shown,
                                      row=first[key])))  # fmt: skip
        else:
            first[key] = row.number
