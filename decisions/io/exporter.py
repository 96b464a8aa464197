"""Export: every KIND in exactly its import format, as CSV (UTF-8 with BOM) or xlsx."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

from decisions import store
from decisions.io import formats
from decisions.io.kinds import KINDS, ORDER
from decisions.store import transfer

FORMATS = ("csv", "xlsx")


def export_kind(conn: sqlite3.Connection, kind: str, fmt: str = "csv") -> bytes:
    """One KIND as the bytes of a file in the import format."""
    spec = KINDS[kind]
    header = spec.header
    records = transfer.export_rows(conn, kind)
    rows = [[record[c] for c in header] for record in records]
    if fmt == "xlsx":
        return formats.write_xlsx(header, rows, kind)
    return formats.write_csv(header, rows)


def export_all(conn: sqlite3.Connection, folder: Path, fmt: str = "csv") -> list[Path]:
    """Every KIND into `folder` as KIND.csv or KIND.xlsx; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in ORDER:
        path = folder / f"{kind}.{fmt}"
        path.write_bytes(export_kind(conn, kind, fmt))
        written.append(path)
    return written


def export_zip(conn: sqlite3.Connection, fmt: str = "csv") -> bytes:
    """Every KIND as KIND.csv (or .xlsx) in one zip: the folder `import all` takes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind in ORDER:
            archive.writestr(f"{kind}.{fmt}", export_kind(conn, kind, fmt))
    return out.getvalue()


def export_from(db_path: Path, kind: str, fmt: str = "csv") -> bytes:
    """`export_kind`, or `export_zip` for kind 'all', on a connection of its own (for a
    download prepared on another thread)."""
    conn = store.connect(db_path, migrate=False)
    try:
        return export_zip(conn, fmt) if kind == "all" else export_kind(conn, kind, fmt)
    finally:
        conn.close()
