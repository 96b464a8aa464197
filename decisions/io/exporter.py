"""Export: every KIND in exactly its import format, as CSV (UTF-8 with BOM) or xlsx."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import zipfile
from pathlib import Path

from decisions import i18n, permissions, store
from decisions.i18n import _
from decisions.io import formats
from decisions.io.kinds import KINDS, ORDER
from decisions.model import SYSTEM_ACTOR, Actor
from decisions.services import MAX_TITLE
from decisions.store import transfer

FORMATS = ("csv", "xlsx")


class ExportRefused(Exception):
    """The file to write is not one an export may write (a symbolic link)."""


def write_file(path: Path, data: bytes) -> Path:
    """Write an export to `path`, never through a symbolic link: a link planted where the
    file goes would otherwise make the export overwrite whatever it points at."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ExportRefused(
                _("{path} is a symbolic link; nothing written. Name a plain file or a new one",
                  path=path)
            ) from None  # fmt: skip
        raise
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return path


def export_kind(
    conn: sqlite3.Connection,
    kind: str,
    fmt: str = "csv",
    *,
    actor: Actor = SYSTEM_ACTOR,
    norwegian: bool = False,
) -> bytes:
    """One KIND as the bytes of a file in the import format, when `actor` may export; a CSV
    with `norwegian` as Excel in a Norwegian locale saves it (semicolons, decimal commas,
    dates dd.mm.yyyy), which the import reads back unchanged."""
    permissions.check(actor, "export")
    spec = KINDS[kind]
    header = spec.header
    records = transfer.export_rows(conn, kind)
    rows = [[record[c] for c in header] for record in records]
    dates = tuple(c.name for c in spec.columns if c.type == "date")
    if fmt == "xlsx":
        wrapped = tuple(c.name for c in spec.columns if c.type == "text" and c.limit > MAX_TITLE)
        return formats.write_xlsx(header, rows, kind, dates=dates, wrapped=wrapped)
    return formats.write_csv(header, rows, norwegian=norwegian, dates=dates)


def table_csv(frame, *, norwegian: bool | None = None) -> bytes:
    """A table a page offers for download (a pandas DataFrame), as the public formats write
    CSV, text that would start a formula neutralised: for Norwegian Excel (semicolons,
    decimal commas) when `norwegian`, which by default is whether the reader reads bokmål,
    else UTF-8 with a BOM and commas."""
    if norwegian is None:
        norwegian = i18n.language() == "nb"
    return formats.write_csv([str(c) for c in frame.columns], _cells(frame), norwegian=norwegian)


def table_xlsx(frame, title: str) -> bytes:
    """A table a page offers for download as an xlsx workbook: text as text cells, numbers as
    numbers, long text wrapped in rows tall enough for it."""
    header = [str(c) for c in frame.columns]
    wrapped = tuple(c for c in header if frame[c].map(lambda v: isinstance(v, str)).any())
    return formats.write_xlsx(header, _cells(frame), title, wrapped=wrapped)


def _cells(frame) -> list[list]:
    """The rows of a DataFrame as plain values, None for a missing one."""
    return [
        [None if value != value else getattr(value, "item", lambda v=value: v)() for value in row]
        for row in frame.itertuples(index=False)
    ]


def export_all(
    conn: sqlite3.Connection,
    folder: Path,
    fmt: str = "csv",
    *,
    actor: Actor = SYSTEM_ACTOR,
    norwegian: bool = False,
) -> list[Path]:
    """Every KIND into `folder` as KIND.csv or KIND.xlsx; returns the files written."""
    permissions.check(actor, "export")
    folder.mkdir(parents=True, exist_ok=True)
    links = [
        str(folder / f"{kind}.{fmt}") for kind in ORDER if (folder / f"{kind}.{fmt}").is_symlink()
    ]
    if links:
        raise ExportRefused(_("{paths}: symbolic links; nothing written", paths=", ".join(links)))
    written = []
    for kind in ORDER:
        data = export_kind(conn, kind, fmt, actor=actor, norwegian=norwegian)
        written.append(write_file(folder / f"{kind}.{fmt}", data))
    return written


def export_zip(
    conn: sqlite3.Connection,
    fmt: str = "csv",
    *,
    actor: Actor = SYSTEM_ACTOR,
    norwegian: bool = False,
) -> bytes:
    """Every KIND as KIND.csv (or .xlsx) in one zip: the folder `import all` takes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind in ORDER:
            data = export_kind(conn, kind, fmt, actor=actor, norwegian=norwegian)
            archive.writestr(f"{kind}.{fmt}", data)
    return out.getvalue()


def export_from(
    db_path: Path, kind: str, fmt: str, *, actor: Actor, norwegian: bool = False
) -> bytes:
    """`export_kind`, or `export_zip` for kind 'all', on a connection of its own (for a
    download prepared on another thread)."""
    conn = store.connect(db_path, migrate=False)
    try:
        if kind == "all":
            return export_zip(conn, fmt, actor=actor, norwegian=norwegian)
        return export_kind(conn, kind, fmt, actor=actor, norwegian=norwegian)
    finally:
        conn.close()
