"""Import and export in the public formats of FORMATS.md, and backups; the command line's
`import`, `export` and `backup`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from decisions import store
from decisions.io.backup import BackupFailed, backup, backup_bytes, backup_from
from decisions.io.exporter import FORMATS, export_all, export_from, export_kind, export_zip
from decisions.io.importer import ImportResult, Source, import_sources, max_bytes
from decisions.io.kinds import KINDS, ORDER, guess_kind
from decisions.model import SYSTEM_ACTOR
from decisions.store.transfer import database_file

__all__ = [
    "FORMATS",
    "KINDS",
    "ORDER",
    "BackupFailed",
    "ImportResult",
    "Source",
    "backup",
    "backup_bytes",
    "backup_from",
    "database_file",
    "cli_backup",
    "cli_export",
    "cli_import",
    "export_all",
    "export_from",
    "export_kind",
    "export_zip",
    "folder_sources",
    "guess_kind",
    "kind_files",
    "import_sources",
]


def kind_files(folder: Path) -> list[tuple[str, Path]]:
    """The KIND.csv / KIND.xlsx files of a folder, in dependency order."""
    return [
        (kind, folder / f"{kind}{suffix}")
        for kind in ORDER
        for suffix in (".csv", ".xlsx")
        if (folder / f"{kind}{suffix}").is_file()
    ]


def folder_sources(folder: Path) -> list[Source]:
    """The KIND files of a folder, read, ready for `import_sources`."""
    return [Source(str(path), path.read_bytes(), kind) for kind, path in kind_files(folder)]


def _too_big(paths: list[Path], limit: int) -> list[str]:
    """Files rejected by their size alone, before reading them."""
    return [
        f"{p}:0:: the file is too big: {p.stat().st_size:,} bytes, at most {limit:,} "
        "(setting import.max_bytes)"
        for p in paths
        if p.stat().st_size > limit
    ]


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _open(args: argparse.Namespace):
    path = store.database_path(args.db)
    if not path.exists():
        print(f"{path}: no such database", file=sys.stderr)
        return None
    return store.connect(path)


def cli_import(args: argparse.Namespace) -> int:
    """`import KIND FILE` / `import all DIR`: exit 0 written (or a clean dry run), 1 rejected,
    2 usage."""
    kind, path = args.kind.strip().lower(), Path(args.path)
    if kind != "all" and kind not in KINDS:
        return _usage(f"unknown KIND {args.kind!r}; expected all or one of {', '.join(ORDER)}")
    if kind == "all" and not path.is_dir():
        return _usage(f"{path}: not a folder (import all takes a folder of KIND files)")
    if kind != "all" and not path.is_file():
        return _usage(f"{path}: no such file")
    conn = _open(args)
    if conn is None:
        return 1
    files = kind_files(path) if kind == "all" else [(kind, path)]
    if not files:
        print(f"{path}:0:: no KIND.csv or KIND.xlsx files in this folder", file=sys.stderr)
        return 1
    too_big = _too_big([p for _, p in files], max_bytes(conn))
    for line in too_big:
        print(line, file=sys.stderr)
    if too_big:
        return 1
    sources = [Source(str(p), p.read_bytes(), k) for k, p in files]
    result = import_sources(conn, sources, SYSTEM_ACTOR, dry_run=args.dry_run)
    for line in result.error_lines():
        print(line, file=sys.stderr)
    for report in result.files:
        counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
        print(f"{report.name}: {report.kind}, {report.detected}: {counts}")
        for note in report.notes:
            print(f"{report.name}: {note}")
    if result.ok:
        print("dry run: nothing written" if args.dry_run else "imported")
    return 0 if result.ok else 1


def cli_export(args: argparse.Namespace) -> int:
    kind = args.kind.strip().lower()
    if kind != "all" and kind not in KINDS:
        return _usage(f"unknown KIND {args.kind!r}; expected all or one of {', '.join(ORDER)}")
    if kind == "all" and not args.out:
        return _usage("export all needs --out DIR")
    conn = _open(args)
    if conn is None:
        return 1
    fmt = getattr(args, "format", None) or "csv"
    if kind == "all":
        for path in export_all(conn, Path(args.out), fmt):
            print(path)
        return 0
    data = export_kind(conn, kind, fmt)
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cli_backup(args: argparse.Namespace) -> int:
    conn = _open(args)
    if conn is None:
        return 1
    try:
        dest = backup(conn, args.dest)
    except BackupFailed as failed:
        print(f"{args.dest}: {failed}", file=sys.stderr)
        return 1
    print(f"{dest}: backup written and checked")
    return 0
