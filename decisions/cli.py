"""python -m decisions COMMAND: the command line of FORMATS.md.

Exit status: 0 success, 1 the input or the data was rejected (nothing written), 2 usage error."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from decisions import i18n, settings, store, words
from decisions.i18n import _
from decisions.model import WorkflowError

COMMANDS = words.COMMAND_WORDS


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in the reader's language: its headings, usage line, -h and the frame of its
    errors (the errors' own texts are argparse's, in English)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", help=_("show this help and exit"))

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}", prog=self.prog, message=message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m decisions", description=_(
        "The command line of the decision tracker (FORMATS.md). Exit status: 0 success, 1 the "
        "input or the data was rejected (nothing written), 2 usage error."))  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {name: sub.add_parser(name, help=_(text), description=_(text))
                for name, text in COMMANDS.items()}  # fmt: skip
    for command in commands.values():
        command.add_argument("--db", help=_("database file (default $DECISIONS_DB, else "
                             "data/decisions.db)"))  # fmt: skip
    commands["demo"].add_argument("--scale", type=float, default=1, help=_("volume multiplier"))
    commands["demo"].add_argument("--seed", type=int, default=7, help=_("random seed"))
    _import_arguments(commands["import"])
    commands["export"].add_argument("kind", metavar="KIND",
                                    help=_("a KIND of FORMATS.md, or all"))  # fmt: skip
    commands["export"].add_argument("--format", choices=("csv", "xlsx"), default="csv")
    commands["export"].add_argument("--out",
                                    help=_("file (folder for all); stdout when absent"))  # fmt: skip
    commands["export"].add_argument(
        "--norwegian",
        action="store_true",
        help=_("CSV for Norwegian Excel: semicolons, decimal commas, dates dd.mm.yyyy"),
    )
    commands["readiness"].add_argument("--wave", help=_("one wave's code"))
    commands["readiness"].add_argument("--as-of",
                                       help=_("evaluate as of this date (YYYY-MM-DD)"))  # fmt: skip
    commands["readiness"].add_argument("--json", action="store_true", help=_("print JSON"))
    commands["backup"].add_argument("dest", metavar="DEST", help=_("where to write the copy "
                                    "(and its head file DEST.head.json)"))  # fmt: skip
    commands["check"].add_argument("--head", metavar="FILE", help=_("a head file (of a backup, "
                                   "or of check --anchor) the log must still hold (default: "
                                   "DB.head.json beside the database, when there)"))  # fmt: skip
    commands["check"].add_argument("--anchor", metavar="FILE", help=_("when the check finds "
                                   "nothing, write the log's head to FILE (after checking the "
                                   "log against the head already there)"))  # fmt: skip
    _notify_arguments(commands["notify"])
    _publish_arguments(commands["publish"])
    return parser


def _import_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("kind", metavar="KIND", help=_("a KIND of FORMATS.md, or all"))
    command.add_argument("path", metavar="FILE", help=_("the file (a folder for all)"))
    command.add_argument("--dry-run", action="store_true",
                         help=_("validate and report, write nothing"))  # fmt: skip
    command.add_argument("--as", dest="as_email", metavar="EMAIL",
                         help=_("import as this person, with their permissions "
                                "(default: system, an admin)"))  # fmt: skip
    command.add_argument("--force", action="store_true",
                         help=_("add rows that nearly duplicate a record (a time "
                                "within a minute of it)"))  # fmt: skip


def _notify_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dry-run", action="store_true",
                         help=_("print what would be sent; send and record nothing"))  # fmt: skip
    command.add_argument("--as-of", help=_("the programme's date to decide on (YYYY-MM-DD)"))
    command.add_argument("--secrets", help=_("secrets.toml with an [smtp] table (default "
                         ".streamlit/secrets.toml; $DECISIONS_SMTP_URL wins)"))  # fmt: skip
    command.add_argument("--resend", metavar="ID", type=int, action="append", default=[],
                         help=_("send again a notice kept back after a lapsed claim (once the "
                         "server's log shows it never took it); may be repeated"))  # fmt: skip


def _publish_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", required=True, metavar="DIR", help=_("the site's folder"))
    command.add_argument("--language", choices=("nb", "en"), default="nb",
                         help=_("the site's language (default nb, bokmål)"))  # fmt: skip
    command.add_argument("--base-url", metavar="URL", help=_("the site's public address, for "
                         "the feed's absolute links (e.g. https://intranett.example/beslutninger)"))  # fmt: skip
    command.add_argument("--dry-run", action="store_true",
                         help=_("list what would be written or removed; write nothing"))  # fmt: skip


def _speak_programme_language(db: str | None) -> None:
    """The command line speaks `DECISIONS_LANGUAGE` where set, else the programme's setting
    app.language (where the database is there to hold it), else bokmål."""
    path = store.database_path(db)
    i18n.use(i18n.choose(programme=_programme_language(path) if path.is_file() else None))


def _programme_language(path: Path) -> str | None:
    try:
        conn = store.connect(path, migrate=False)
    except sqlite3.Error:  # not a database, or a damaged one: the command itself will say so
        return None
    try:
        return settings.get(conn, settings.LANGUAGE)
    except sqlite3.Error:  # a schema too old to hold settings
        return None
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    i18n.use(i18n.choose())  # the help and usage texts, before a database is named
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    _speak_programme_language(args.db)
    handler: Callable[[argparse.Namespace], int] = HANDLERS[args.command]
    try:
        return handler(args)
    except UsageError as error:
        print(_("error: {error}", error=error), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError:  # SQLite's own words ("file is not a database") stay in
        print(_("{path}: not a database this program can read (damaged, or another kind of "
                "file)", path=store.database_path(args.db)), file=sys.stderr)  # fmt: skip
        return 1


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
        print(_("{path}: {error}", path=path, error=error), file=sys.stderr)
        return 1
    print(_("{path}: {done}", path=path, done=done(result)))
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
        print(_("{path}: no such database", path=path), file=sys.stderr)
        return 1
    conn = store.connect(path, migrate=False)
    pending = store.pending_migrations(conn)
    if pending:
        print(_("{path}: an older version wrote this database (its schema lacks {pending}); "
                "open it once with the app or any other command, which upgrades it, then "
                "check it", path=path, pending=", ".join(pending)), file=sys.stderr)  # fmt: skip
        return 1
    try:
        with store.snapshot(conn):  # one snapshot of the log, taken together with its heads
            findings, warnings = _check_snapshot(conn, path, args)
            key = anchor.log_key()
            last_id, last_hash = store.last_event(conn)
            signed = bool(last_id) and store.event_at(conn, last_id)[1] is not None
            head = anchor.head_record(last_id, last_hash, key, str(path), event_signed=signed)
    except anchor.HeadUnreadable as unreadable:
        print(_("{path}: {error}", path=path, error=unreadable), file=sys.stderr)
        return 1
    for warning in warnings:
        print(_("{path}: warning: {warning}", path=path, warning=warning))
    print(words.head_text(str(path), head["event_id"], head["hash"], signed=bool(key)))
    for finding in findings:
        print(_("{path}: {error}", path=path, error=finding), file=sys.stderr)
    if findings:
        return 1
    if args.anchor:
        with anchor.head_lock(str(path), exclusive=True):  # never behind a change's own head
            written = anchor.advance_head(args.anchor, head)
            print(_("{path}: head written", path=written))
    print(_("{path}: ok", path=path))
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
        raise anchor.HeadUnreadable(_("{path}: no such head file", path=args.head))
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
        raise UsageError(_("unknown KIND {kind}; expected all or one of {kinds}",
                           kind=repr(args.kind), kinds=", ".join(io.ORDER)))  # fmt: skip
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
        raise UsageError(_("{path}: not a folder (import all takes a folder of KIND files)",
                           path=path))  # fmt: skip
    if kind != "all" and not path.is_file():
        raise UsageError(_("{path}: no such file", path=path))
    conn = _open(args)
    if conn is None:
        return 1
    actor = _import_actor(conn, args.as_email)
    if actor is None:
        print(_("--as {email}: no active person with this email in the directory",
                email=args.as_email), file=sys.stderr)  # fmt: skip
        return 1
    files = io.kind_files(path) if kind == "all" else [(kind, path)]
    if not files:
        print(_("{path}:0:: no KIND.csv or KIND.xlsx files in this folder", path=path),
              file=sys.stderr)  # fmt: skip
        return 1
    limit = io.max_bytes(conn)
    too_big = [_("{path}:0:: the file is too big: {size} bytes, at most {limit} (setting "
                 "import.max_bytes)", path=p, size=i18n.format_number(p.stat().st_size),
                 limit=i18n.format_number(limit))
               for _kind, p in files if p.stat().st_size > limit]  # fmt: skip
    for line in too_big:
        print(line, file=sys.stderr)
    if too_big:
        return 1
    sources = [io.Source(str(p), p.read_bytes(), k) for k, p in files]
    try:
        result = io.import_sources(conn, sources, actor, dry_run=args.dry_run,
                                   force=args.force)  # fmt: skip
    except WorkflowError as refused:
        print(_("--as {email}: {error}", email=actor.email, error=refused), file=sys.stderr)
        return 1
    for line in result.error_lines():
        print(line, file=sys.stderr)
    for report in result.files:
        _print_file_summary(report)
    if result.ok:
        print(_("dry run: nothing written") if args.dry_run
              else _("imported as {email}", email=actor.email))  # fmt: skip
    return 0 if result.ok else 1


def _print_file_summary(report) -> None:
    """A file's line of counts, its notes and the first of its rows' notes."""
    print(_("{file}: {kind}, {detected}: {counts}", file=report.name, kind=report.kind,
            detected=report.detected, counts=words.import_counts_text(report.counts)))  # fmt: skip
    for note in report.notes:
        print(_("{file}: {note}", file=report.name, note=note))
    notes = [_("{file}:{row}: {key}: {note}", file=report.name, row=row.number, key=row.key,
               note=note) for row in report.rows for note in row.notes]  # fmt: skip
    for line in notes[:_ROW_NOTES]:
        print(line)
    if len(notes) > _ROW_NOTES:
        print(_("{file}: ... and {count} more notes", file=report.name,
                count=i18n.format_number(len(notes) - _ROW_NOTES)))  # fmt: skip


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
        print(_("{path}: {error}", path=args.dest, error=failed), file=sys.stderr)
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
        raise UsageError(_("--base-url {url}: expected an http:// or https:// address",
                           url=args.base_url))  # fmt: skip
    conn = _open(args)
    if conn is None:
        return 1
    started, reader = (time.process_time(), time.perf_counter()), i18n.language()
    try:
        result = publish(conn, Path(args.out), language=args.language,
                         base_url=args.base_url, dry_run=args.dry_run)  # fmt: skip
    except (IndexFailed, Busy) as failed:
        print(_("{path}: {error}", path=args.out, error=failed), file=sys.stderr)
        return 1
    finally:
        i18n.use(reader)  # the site is written in its language, the report in the reader's
    if args.dry_run:
        for line in words.publish_dry_run_lines(result.changes, result.index_rebuilt):
            print(line)
        return 0
    cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    print(_("{path}: {summary}", path=args.out,
            summary=words.publish_summary_text(result, wall, cpu)))  # fmt: skip
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
