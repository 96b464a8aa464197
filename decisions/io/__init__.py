"""Import and export in the public formats of FORMATS.md, and backups. The command line's
`import`, `export` and `backup` are in decisions.cli."""

from __future__ import annotations

from pathlib import Path

from decisions.io.backup import BackupFailed, backup, backup_bytes, backup_from
from decisions.io.exporter import (
    FORMATS,
    ExportRefused,
    export_all,
    export_from,
    export_kind,
    export_zip,
    table_csv,
    table_xlsx,
    write_file,
)
from decisions.io.importer import ImportResult, Source, import_sources, max_bytes
from decisions.io.kinds import KINDS, ORDER, guess_kind
from decisions.store.transfer import database_file

__all__ = [
    "FORMATS",
    "KINDS",
    "ORDER",
    "BackupFailed",
    "ExportRefused",
    "ImportResult",
    "Source",
    "backup",
    "backup_bytes",
    "backup_from",
    "database_file",
    "export_all",
    "export_from",
    "export_kind",
    "export_zip",
    "folder_sources",
    "guess_kind",
    "kind_files",
    "import_sources",
    "table_csv",
    "table_xlsx",
    "max_bytes",
    "write_file",
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
