"""python -m decisions COMMAND: the command line of FORMATS.md.

Exit status: 0 success, 1 the input or the data was rejected (nothing written), 2 usage error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from decisions import store
from decisions.model import WorkflowError

COMMANDS: dict[str, str] = {
    "init": "create an empty programme database (schema and reference lists)",
    "demo": "create the demo programme (--scale N multiplies the volume)",
    "import": "validate a file (or a folder with `all`), then write all of it or nothing",
    "export": "write a KIND (or `all` into a folder) in exactly the import format",
    "readiness": "evaluate each wave's go-live criteria",
    "check": "integrity, foreign keys, event log and stored stages against the evidence",
    "backup": "consistent online copy of the database while the app runs",
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
    commands["export"].add_argument("kind", metavar="KIND", help="a KIND of FORMATS.md, or all")
    commands["export"].add_argument("--format", choices=("csv", "xlsx"), default="csv")
    commands["export"].add_argument("--out", help="file (folder for all); stdout when absent")
    commands["readiness"].add_argument("--wave", help="one wave's code")
    commands["readiness"].add_argument("--as-of", help="evaluate as of this date (YYYY-MM-DD)")
    commands["readiness"].add_argument("--json", action="store_true", help="print JSON")
    commands["backup"].add_argument("dest", metavar="DEST", help="where to write the copy")
    return parser


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
        print(f"error: {error}", file=sys.stderr)
        return 2


class UsageError(Exception):
    """The command's words were off (exit 2)."""


def _fill_empty_programme(args: argparse.Namespace, fill: Callable, done: Callable) -> int:
    """Open the database, refuse one that holds a programme, fill it, print what was made."""
    path = store.database_path(args.db)
    conn = store.connect(path)
    if not store.is_empty(conn):
        print(f"{path}: holds a programme already; not overwritten", file=sys.stderr)
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
        lambda counts: (
            "empty programme created ("
            + ", ".join(f"{n} {kind}" for kind, n in counts.items())
            + ")"
        ),
    )


def _demo(args: argparse.Namespace) -> int:
    from decisions import demo

    return _fill_empty_programme(
        args,
        lambda conn: demo.build_demo(conn, scale=args.scale, seed=args.seed),
        lambda summary: f"demo programme created ({summary})",
    )


def _check(args: argparse.Namespace) -> int:
    from decisions import services

    path = store.database_path(args.db)
    if not path.exists():
        print(f"{path}: no such database", file=sys.stderr)
        return 1
    findings = services.check(store.connect(path, migrate=False))
    for finding in findings:
        print(f"{path}: {finding}", file=sys.stderr)
    if not findings:
        print(f"{path}: ok")
    return 1 if findings else 0


def _import(args: argparse.Namespace) -> int:
    from decisions import io

    return io.cli_import(args)


def _export(args: argparse.Namespace) -> int:
    from decisions import io

    return io.cli_export(args)


def _backup(args: argparse.Namespace) -> int:
    from decisions import io

    return io.cli_backup(args)


def _readiness(args: argparse.Namespace) -> int:
    from decisions import readiness

    return readiness.cli_readiness(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": _init,
    "demo": _demo,
    "import": _import,
    "export": _export,
    "readiness": _readiness,
    "check": _check,
    "backup": _backup,
}
