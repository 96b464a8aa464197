"""python -m decisions COMMAND: the command line of FORMATS.md.

Exit status: 0 success, 1 the input or the data was rejected (nothing written), 2 usage error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from decisions import store, words
from decisions.i18n import _
from decisions.model import WorkflowError

COMMANDS: dict[str, str] = {
    "init": "create an empty programme database (schema and reference lists)",
    "demo": "create the demo programme (--scale N multiplies the volume)",
    "import": "validate a file (or a folder with `all`), then write all of it or nothing",
    "export": "write a KIND (or `all` into a folder) in exactly the import format",
    "readiness": "evaluate each wave's go-live criteria",
    "check": "integrity, foreign keys, event log and stored stages against the evidence",
    "backup": "consistent online copy of the database while the app runs",
    "notify": "send the email notices due (digests, demo invitations, event notices)",
    "publish": "write the published decision log: a static site with lists, feed and search",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m decisions", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {name: sub.add_parser(name, help=text, description=text)
                for name, text in COMMANDS.items()}  # fmt: skip
    for command in commands.values():
        command.add_argument("--db", help="database file (default $DECISIONS_DB, else "
                             "data/decisions.db)")  # fmt: skip
    commands["demo"].add_argument("--scale", type=float, default=1, help="volume multiplier")
    commands["demo"].add_argument("--seed", type=int, default=7, help="random seed")
    commands["import"].add_argument("kind", metavar="KIND", help="a KIND of FORMATS.md, or all")
    commands["import"].add_argument("path", metavar="FILE", help="the file (a folder for all)")
    commands["import"].add_argument("--dry-run", action="store_true",
                                    help="validate and report, write nothing")  # fmt: skip
    commands["import"].add_argument("--as", dest="as_email", metavar="EMAIL",
                                    help="import as this person, with their permissions "
                                    "(default: system, an admin)")  # fmt: skip
    commands["import"].add_argument("--force", action="store_true",
                                    help="add rows that nearly duplicate a record (a time "
                                    "within a minute of it)")  # fmt: skip
    commands["export"].add_argument("kind", metavar="KIND", help="a KIND of FORMATS.md, or all")
    commands["export"].add_argument("--format", choices=("csv", "xlsx"), default="csv")
    commands["export"].add_argument("--out", help="file (folder for all); stdout when absent")
    commands["export"].add_argument(
        "--norwegian",
        action="store_true",
        help="CSV for Norwegian Excel: semicolons, decimal commas, dates dd.mm.yyyy",
    )
    commands["readiness"].add_argument("--wave", help="one wave's code")
    commands["readiness"].add_argument("--as-of", help="evaluate as of this date (YYYY-MM-DD)")
    commands["readiness"].add_argument("--json", action="store_true", help="print JSON")
    commands["backup"].add_argument("dest", metavar="DEST", help="where to write the copy "
                                    "(and its head file DEST.head.json)")  # fmt: skip
    commands["check"].add_argument("--head", metavar="FILE", help="a head file (of a backup, or "
                                   "of check --anchor) the log must still hold (default: "
                                   "DB.head.json beside the database, when there)")  # fmt: skip
    commands["check"].add_argument("--anchor", metavar="FILE", help="when the check finds "
                                   "nothing, write the log's head to FILE (after checking the "
                                   "log against the head already there)")  # fmt: skip
    _notify_arguments(commands["notify"])
    _publish_arguments(commands["publish"])
    return parser


def _notify_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dry-run", action="store_true",
                         help="print what would be sent; send and record nothing")  # fmt: skip
    command.add_argument("--as-of", help="the programme's date to decide on (YYYY-MM-DD)")
    command.add_argument("--secrets", help="secrets.toml with an [smtp] table (default "
                         ".streamlit/secrets.toml; $DECISIONS_SMTP_URL wins)")  # fmt: skip
    command.add_argument("--resend", metavar="ID", type=int, action="append", default=[],
                         help="send again a notice kept back after a lapsed claim (once the "
                         "server's log shows it never took it); may be repeated")  # fmt: skip


def _publish_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", required=True, metavar="DIR", help="the site's folder")
    command.add_argument("--language", choices=("nb", "en"), default="nb",
                         help="the site's language (default nb, bokmål)")  # fmt: skip
    command.add_argument("--base-url", metavar="URL", help="the site's public address, for "
                         "the feed's absolute links (e.g. https://intranett.example/beslutninger)")  # fmt: skip
    command.add_argument("--dry-run", action="store_true",
                         help="list what would be written or removed; write nothing")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    handler: Callable[[argparse.Namespace], int] = HANDLERS[args.command]
    try:
        return handler(args)
    except UsageError as error:
        print(_("error: {error}", error=error), file=sys.stderr)
        return 2


class UsageError(Exception):
    """The command's words were off (exit 2)."""


def _fill_empty_programme(args: argparse.Namespace, fill: Callable, done: Callable) -> int:
    """Open the database, refuse one that holds a programme, fill it, print what was made."""
    path = store.database_path(args.db)
    conn = store.connect(path)
    if not store.is_empty(conn):
        print(_("{path}: holds a programme already; not overwritten", path=path), file=sys.stderr)
        return 1
    try:
        result = fill(conn)
    except WorkflowError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    print(f"{path}: {done(result)}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from decisions import programme

    return _fill_empty_programme(
        args,
        programme.init_reference_lists,
        lambda counts: _(
            "empty programme created ({counts})",
            counts=words.reference_counts_text(counts),
        ),
    )


def _demo(args: argparse.Namespace) -> int:
    from decisions import demo

    return _fill_empty_programme(
        args,
        lambda conn: demo.build_demo(conn, scale=args.scale, seed=args.seed),
        lambda summary: _("demo programme created ({summary})", summary=summary),
    )


def _check(args: argparse.Namespace) -> int:
    """`check [--head FILE] [--anchor FILE]`: findings on stderr (exit 1), warnings (what it
    could not prove) and the log's head on stdout."""
    from decisions.store import anchor

    path = store.database_path(args.db)
    if not path.exists():
        print(f"{path}: no such database", file=sys.stderr)
        return 1
    conn = store.connect(path, migrate=False)
    pending = store.pending_migrations(conn)
    if pending:
        print(f"{path}: an older version wrote this database (its schema lacks "
              f"{', '.join(pending)}); open it once with the app or any other command, which "
              "upgrades it, then check it", file=sys.stderr)  # fmt: skip
        return 1
    try:
        with store.snapshot(conn):  # one snapshot of the log, taken together with its heads
            findings, warnings = _check_snapshot(conn, path, args)
            key = anchor.log_key()
            last_id, last_hash = store.last_event(conn)
            signed = bool(last_id) and store.event_at(conn, last_id)[1] is not None
            head = anchor.head_record(last_id, last_hash, key, str(path), event_signed=signed)
    except anchor.HeadUnreadable as unreadable:
        print(f"{path}: {unreadable}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"{path}: warning: {warning}")
    print(f"{path}: head: event {head['event_id']}, hash {head['hash']}"
          + (", with the log key's MAC" if key else ", no MAC (no log key)"))  # fmt: skip
    for finding in findings:
        print(f"{path}: {finding}", file=sys.stderr)
    if findings:
        return 1
    if args.anchor:
        with anchor.head_lock(str(path), exclusive=True):  # never behind a change's own head
            print(f"{anchor.advance_head(args.anchor, head)}: head written")
    print(f"{path}: ok")
    return 0


def _check_snapshot(conn, path: Path, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(findings, warnings) of `check` on the database, its own head beside it (which the log
    key requires, except while `--anchor` writes the first one) and the other head files."""
    from decisions import services
    from decisions.store import anchor

    beside = anchor.own_head_path(path)
    others = [Path(name) for name in (args.head, args.anchor) if name]
    others = [n for n in dict.fromkeys(others) if n.resolve() != beside.resolve() and n.is_file()]
    with anchor.head_lock(str(path), exclusive=False):
        store.last_event(conn)
        own = anchor.read_head(beside) if beside.is_file() else None
        heads = [(str(name), anchor.read_head(name)) for name in others]
    if args.head and Path(args.head) != beside and not Path(args.head).is_file():
        raise anchor.HeadUnreadable(f"{args.head}: no such head file")
    bootstrap = own is None and args.anchor and Path(args.anchor).resolve() == beside.resolve()
    own_head = None if bootstrap else (str(beside), own)
    findings = services.check(conn, heads=heads, own_head=own_head)
    return findings, services.check_warnings(conn, heads=[*heads, *([own_head] if own else [])])


def _open(args: argparse.Namespace):
    path = store.database_path(args.db)
    if not path.exists():
        print(_("{path}: no such database", path=path), file=sys.stderr)
        return None
    return store.connect(path)


def _kind_word(args: argparse.Namespace) -> str:
    from decisions import io

    kind = args.kind.strip().lower()
    if kind != "all" and kind not in io.KINDS:
        raise UsageError(f"unknown KIND {args.kind!r}; expected all or one of "
                         f"{', '.join(io.ORDER)}")  # fmt: skip
    return kind


def _import_actor(conn, email: str | None):
    """The person an import acts as: `system` (an admin) without --as, else the named
    person with their own roles; None when no active person has that email."""
    from decisions.model import SYSTEM_ACTOR
    from decisions.store import decisions as decision_store

    return SYSTEM_ACTOR if email is None else decision_store.load_actor(conn, email)


_ROW_NOTES = 50  # the rows' notes printed per file


def _import(args: argparse.Namespace) -> int:
    """`import KIND FILE` / `import all DIR` [--as EMAIL]: exit 0 written (or a clean dry run),
    1 rejected, 2 usage."""
    from decisions import io

    kind, path = _kind_word(args), Path(args.path)
    if kind == "all" and not path.is_dir():
        raise UsageError(f"{path}: not a folder (import all takes a folder of KIND files)")
    if kind != "all" and not path.is_file():
        raise UsageError(f"{path}: no such file")
    conn = _open(args)
    if conn is None:
        return 1
    actor = _import_actor(conn, args.as_email)
    if actor is None:
        print(f"--as {args.as_email}: no active person with this email in the directory",
              file=sys.stderr)  # fmt: skip
        return 1
    files = io.kind_files(path) if kind == "all" else [(kind, path)]
    if not files:
        print(f"{path}:0:: no KIND.csv or KIND.xlsx files in this folder", file=sys.stderr)
        return 1
    limit = io.max_bytes(conn)
    too_big = [f"{p}:0:: the file is too big: {p.stat().st_size:,} bytes, at most {limit:,} "
               "(setting import.max_bytes)" for _, p in files if p.stat().st_size > limit]  # fmt: skip
    for line in too_big:
        print(line, file=sys.stderr)
    if too_big:
        return 1
    sources = [io.Source(str(p), p.read_bytes(), k) for k, p in files]
    try:
        result = io.import_sources(conn, sources, actor, dry_run=args.dry_run,
                                   force=args.force)  # fmt: skip
    except WorkflowError as refused:
        print(f"--as {actor.email}: {refused}", file=sys.stderr)
        return 1
    for line in result.error_lines():
        print(line, file=sys.stderr)
    for report in result.files:
        counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
        print(f"{report.name}: {report.kind}, {report.detected}: {counts}")
        for note in report.notes:
            print(f"{report.name}: {note}")
        notes = [f"{report.name}:{row.number}: {row.key}: {note}"
                 for row in report.rows for note in row.notes]  # fmt: skip
        for line in notes[:_ROW_NOTES]:
            print(line)
        if len(notes) > _ROW_NOTES:
            print(f"{report.name}: ... and {len(notes) - _ROW_NOTES} more notes")
    if result.ok:
        print("dry run: nothing written" if args.dry_run else f"imported as {actor.email}")
    return 0 if result.ok else 1


def _export(args: argparse.Namespace) -> int:
    from decisions import io

    kind = _kind_word(args)
    if kind == "all" and not args.out:
        raise UsageError(_("export all needs --out DIR"))
    if args.norwegian and args.format != "csv":
        raise UsageError(_("--norwegian writes CSV; an xlsx has typed dates and numbers already"))
    conn = _open(args)
    if conn is None:
        return 1
    try:
        if kind == "all":
            for path in io.export_all(conn, Path(args.out), args.format, norwegian=args.norwegian):
                print(path)
            return 0
        data = io.export_kind(conn, kind, args.format, norwegian=args.norwegian)
        if args.out:
            io.write_file(Path(args.out), data)
            return 0
    except io.ExportRefused as refused:  # nothing written through a symbolic link
        print(_("error: {error}", error=refused), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


def _backup(args: argparse.Namespace) -> int:
    from decisions import io
    from decisions.io.backup import head_path

    conn = _open(args)
    if conn is None:
        return 1
    try:
        dest = io.backup(conn, args.dest)
    except io.BackupFailed as failed:
        print(f"{args.dest}: {failed}", file=sys.stderr)
        return 1
    print(_("{dest}: backup written and checked; its head in {head}", dest=dest,
            head=head_path(dest)))  # fmt: skip
    return 0


def _readiness(args: argparse.Namespace) -> int:
    from decisions import readiness

    return readiness.cli_readiness(args)


def _notify(args: argparse.Namespace) -> int:
    from decisions import notices

    return notices.cli_notify(args)


def _publish(args: argparse.Namespace) -> int:
    """`publish --out DIR`: exit 0 written (or listed), 1 no database or no index."""
    import time

    from decisions.publish import publish
    from decisions.publish.files import Busy
    from decisions.publish.search import IndexFailed

    if args.base_url and not args.base_url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {args.base_url}: expected an http:// or https:// address")
    conn = _open(args)
    if conn is None:
        return 1
    started = time.process_time(), time.perf_counter()
    try:
        result = publish(conn, Path(args.out), language=args.language,
                         base_url=args.base_url, dry_run=args.dry_run)  # fmt: skip
    except (IndexFailed, Busy) as failed:
        print(f"{args.out}: {failed}", file=sys.stderr)
        return 1
    changes = result.changes
    if args.dry_run:
        for label, paths in (("new", changes.new), ("changed", changes.changed),
                             ("removed", changes.removed)):  # fmt: skip
            for path in sorted(paths):
                print(f"{label} {path}")
        index = "would be rebuilt" if result.index_rebuilt else "unchanged"
        print(f"dry run: {len(changes.written)} files would be written, {len(changes.removed)} "
              f"removed, {changes.unchanged} unchanged; the search index {index}")  # fmt: skip
        return 0
    cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    index = "rebuilt" if result.index_rebuilt else "unchanged"
    print(f"{args.out}: {result.decisions} decisions published; {len(changes.written)} files "
          f"written, {len(changes.removed)} removed, {changes.unchanged} unchanged; the search "
          f"index {index}; readiness_now {result.readiness_rows} rows ({wall:.1f} s, {cpu:.1f} s "
          "CPU in this process)")  # fmt: skip
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": _init,
    "demo": _demo,
    "import": _import,
    "export": _export,
    "readiness": _readiness,
    "check": _check,
    "backup": _backup,
    "notify": _notify,
    "publish": _publish,
}
