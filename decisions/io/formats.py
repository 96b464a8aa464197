"""Reading and writing tables as CSV or xlsx: encodings, separators, and spreadsheet formula
neutralising. Knows nothing of KINDs; a table is a header and rows of text cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from decisions import words
from decisions.i18n import _, n_

# A line feed too: XML (xlsx) turns a leading carriage return into one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX_MAGIC = b"PK\x03\x04"
# An xlsx is a zip of XML: it may expand to this many times the file limit, no more (a small
# workbook of repeated rows compresses a hundredfold).
XLSX_EXPANSION = 4
MAX_ROWS = 100_000  # the default of the setting import.max_rows


class FileRejected(Exception):
    """The file as a whole cannot be read (not CSV or xlsx, empty, too big)."""


@dataclass
class Table:
    """A file's header and rows as text cells, and how it was read."""

    header: list[str]
    rows: list[list[str]]
    detected: str
    notes: list[str] = field(default_factory=list)
    # Saved by a spreadsheet in a Norwegian locale: dates dd.mm.yyyy and decimal commas.
    norwegian: bool = False
    # The file's row number of each row (the header is row 1; blank rows are left out).
    numbers: list[int] = field(default_factory=list)
    # What an xlsx cell held when it was not text, by (row index, column index): "bool",
    # "number" or "date": what a spreadsheet's type guessing may have made of a text.
    cell_types: dict[tuple[int, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.numbers:
            self.numbers = list(range(2, len(self.rows) + 2))


# Formula neutralising -------------------------------------------------------------------------


def _looks_like_formula(text: str) -> bool:
    # A leading quote before a formula-looking text is itself quoted, so that unquoting on
    # import gives back exactly what was exported.
    if text.startswith("'"):
        return _looks_like_formula(text[1:])
    return text.startswith(FORMULA_STARTS)


# A spreadsheet that opens a CSV with the other separator (a comma file in Norwegian Excel
# splits at semicolons, a semicolon file in English Excel at commas) splits a cell there too:
# each part is guarded as a cell of its own.
_SEPARATORS = re.compile(r"([,;])")


def neutralise(text: str) -> str:
    """A text cell as spreadsheets should show it: as text, never as a formula, also when
    split at a comma or semicolon."""
    if "," not in text and ";" not in text:
        return _guarded(text)
    parts = _SEPARATORS.split(text)  # the separators at the odd places
    return "".join(part if at % 2 else _guarded(part) for at, part in enumerate(parts))


def restore(text: str) -> str:
    """The inverse of `neutralise`."""
    if "'" not in text:
        return text
    parts = _SEPARATORS.split(text)
    return "".join(part if at % 2 else _unguarded(part) for at, part in enumerate(parts))


def _guarded(part: str) -> str:
    return "'" + part if _looks_like_formula(part) else part


def _unguarded(part: str) -> str:
    if part.startswith("'") and _looks_like_formula(part[1:]):
        return part[1:]
    return part


# Reading ------------------------------------------------------------------------------------


def read_table(name: str, data: bytes, *, max_bytes: int, max_rows: int = MAX_ROWS) -> Table:
    """The first sheet or the CSV of a file, as text cells. Raises FileRejected, also for
    more than `max_rows` rows after the header (an xlsx: before its rows are read) and for an
    xlsx that expands to more than XLSX_EXPANSION times `max_bytes`."""
    if len(data) > max_bytes:
        raise FileRejected(
            _(
                "the file is too big: {size} bytes, at most {limit} (setting import.max_bytes)",
                size=f"{len(data):,}",
                limit=f"{max_bytes:,}",
            )
        )
    if not data.strip(b"\xef\xbb\xbf \r\n\t"):
        raise FileRejected(_("the file is empty"))
    lower = name.lower()
    if data.startswith(XLSX_MAGIC):
        if not lower.endswith(".xlsx"):
            raise FileRejected(_("a zip or Office file that is not .xlsx; save it as .xlsx or CSV"))
        table = _read_xlsx(data, max_bytes * XLSX_EXPANSION, max_rows)
    elif lower.endswith(".xlsx"):
        raise FileRejected(_("named .xlsx but not an xlsx workbook"))
    elif lower.endswith((".xls", ".xlsm", ".xlsb", ".ods", ".zip")) or b"\x00" in data[:4096]:
        raise FileRejected(_("not a CSV or xlsx file; save it as CSV (UTF-8) or .xlsx"))
    else:
        table = _read_csv(data, max_rows)
    if not table.header or not any(table.header):
        raise FileRejected(_("the file is empty: no header row"))
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with BOM"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "Windows-1252 (Excel)"


def _too_many_rows(max_rows: int) -> FileRejected:
    return FileRejected(
        _(
            "the file has more than {limit} rows (setting import.max_rows); split it",
            limit=f"{max_rows:,}",
        )
    )


def _read_csv(data: bytes, max_rows: int = MAX_ROWS) -> Table:
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as error:
        raise FileRejected(_("not a text file: {error}", error=error)) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    if delimiter == "," and "\t" in first_line and "," not in first_line:
        delimiter = "\t"
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = list(itertools.islice(reader, max_rows + 2))
    except csv.Error as error:
        raise FileRejected(_("not a readable CSV file: {error}", error=error)) from None
    if len(records) > max_rows + 1:
        raise _too_many_rows(max_rows)
    numbered = [(n, r) for n, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise FileRejected(_("the file is empty"))
    detected = _(words.SEPARATOR_WORDS[delimiter], encoding=encoding)
    notes = []
    norwegian = delimiter == ";" or encoding.startswith("Windows")
    if norwegian:
        notes.append(norwegian_note())
    header = [h.strip().lstrip("\ufeff") for h in numbered[0][1]]
    rows = [r for _n, r in numbered[1:]]
    notes += _without_trailing_empty_columns(header, rows)
    return Table(header, rows, detected, notes, norwegian=norwegian,
                 numbers=[n for n, _r in numbered[1:]])  # fmt: skip


def _without_trailing_empty_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Drop the columns at the end that have neither a name nor a value (a spreadsheet saves
    one where a cell was once touched); the note saying so, if any."""
    dropped = 0
    while header and not header[-1]:
        at = len(header) - 1
        if any(at < len(r) and r[at].strip() for r in rows):
            break
        header.pop()
        dropped += 1
    if not dropped:
        return []
    return [
        n_(
            "{count} empty column without a name at the end was ignored",
            "{count} empty columns without a name at the end were ignored",
            dropped,
        )
    ]


def norwegian_note() -> str:
    """What the report says of a file read as Norwegian."""
    return _("Read as a Norwegian spreadsheet: dates dd.mm.yyyy, decimal comma")


def _read_xlsx(data: bytes, max_expanded: int, max_rows: int = MAX_ROWS) -> Table:
    import openpyxl  # imported here: slow to import, and only xlsx needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            expanded = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRejected(_("not a readable xlsx workbook (damaged zip)")) from None
    if "xl/workbook.xml" not in names:
        raise FileRejected(_("a zip file that is not an xlsx workbook"))
    if expanded > max_expanded:
        raise FileRejected(
            _(
                "the workbook expands to {size} bytes uncompressed, at most {limit} ({times} "
                "times the setting import.max_bytes); save it as CSV or split it",
                size=f"{expanded:,}",
                limit=f"{max_expanded:,}",
                times=XLSX_EXPANSION,
            )
        )
    notes = []
    if any(n.endswith("vbaProject.bin") for n in names):
        notes.append(_("macros in the workbook were ignored"))
    if any(n.startswith("xl/externalLinks/") for n in names):
        notes.append(_("external links in the workbook were not followed"))
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False
        )
        try:
            sheet = book.worksheets[0]
            if (sheet.max_row or 0) > max_rows + 1:  # the sheet's own dimension, read first
                raise _too_many_rows(max_rows)
            sheet.reset_dimensions()  # it may also name fewer rows than the sheet holds
            rows = itertools.islice(sheet.iter_rows(), max_rows + 2)
            records = [[_typed_text(cell) for cell in row] for row in rows]
            if len(records) > max_rows + 1:
                raise _too_many_rows(max_rows)
        finally:
            book.close()
    except FileRejected:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FileRejected(_unreadable(error)) from None
    numbered = [
        (n, r) for n, r in enumerate(records, start=1) if any(text.strip() for text, _t in r)
    ]
    if not numbered:
        raise FileRejected(_("the file is empty: the first sheet has no rows"))
    header = [text.strip() for text, _type in numbered[0][1]]
    rows = [[text for text, _type in r] for _n, r in numbered[1:]]
    notes += _without_trailing_empty_columns(header, rows)
    cell_types = {
        (at, column): kind
        for at, (_n, r) in enumerate(numbered[1:])
        for column, (_text, kind) in enumerate(r)
        if kind
    }
    return Table(header, rows, _("xlsx, first sheet"), notes,
                 numbers=[n for n, _r in numbered[1:]], cell_types=cell_types)  # fmt: skip


def _unreadable(error: Exception) -> str:
    cause = error.__cause__ or error.__context__ or error
    if type(cause).__module__.startswith("defusedxml"):
        return _("refused: the workbook declares XML entities or DTDs (unsafe XML)")
    return _("not a readable xlsx workbook: {error}", error=str(error).splitlines()[0])


def _typed_text(cell) -> tuple[str, str]:
    """A cell's text, and what it held when not text (bool, number, date)."""
    value = getattr(cell, "value", None)
    held = _held(value)
    if isinstance(value, dt.datetime) and "h" in (cell.number_format or "").lower():
        return value.replace(microsecond=0).isoformat(), held  # a timestamp, even at midnight
    return _cell_text(value), held


def _held(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "time" if isinstance(value, dt.time) else ""


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format_number(value)
    return str(value)


# Writing ------------------------------------------------------------------------------------


def format_number(value: float | int) -> str:
    """A number as its shortest text: 95.0 -> '95', 0.25 -> '0.25'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(
    header: list[str], rows: list[list], *, norwegian: bool = False, dates: tuple[str, ...] = ()
) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the letters right), formulas neutralised. With
    `norwegian`, as Excel in a Norwegian locale saves CSV: semicolons, decimal commas, the
    columns named in `dates` as dd.mm.yyyy, in Windows-1252 where every letter fits it (else
    UTF-8 with a BOM); the import reads it back as it was."""
    out = io.StringIO(newline="")
    if not norwegian:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([_out_text(value) for value in row] for row in rows)
        return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    is_date = [name in dates for name in header]
    writer.writerows(
        [_norwegian_text(value, date) for value, date in zip(row, is_date, strict=True)]
        for row in rows
    )
    text = out.getvalue()
    try:
        return text.encode("cp1252")
    except UnicodeEncodeError:
        return b"\xef\xbb\xbf" + text.encode("utf-8")


def norwegian_date(value: str) -> str:
    """An ISO date or timestamp as a Norwegian spreadsheet writes it: 15.11.2021 14:05:09."""
    day = f"{value[8:10]}.{value[5:7]}.{value[:4]}"
    return f"{day} {value[11:19]}" if len(value) > 10 else day


def _norwegian_text(value, date: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value).replace(".", ",")
    if date and value:
        return norwegian_date(str(value))
    return neutralise(str(value))


def write_xlsx(
    header: list[str],
    rows: list[list],
    title: str,
    *,
    dates: tuple[str, ...] = (),
    wrapped: tuple[str, ...] = (),
) -> bytes:
    """The same columns on the first sheet of an xlsx workbook, readable as it opens: the
    columns named in `dates` as date cells, numbers as number cells, every other value as a
    text-typed cell (never a formula, so it needs no guarding apostrophe), column widths to
    fit, the `wrapped` columns' text wrapped in rows tall enough for it, the header frozen and
    filtered."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    widths = [len(name) + 2 for name in header]
    for row in rows[:_WIDTH_SAMPLE]:
        for index, value in enumerate(row):
            if value is not None:
                longest = max(len(line) for line in str(value).split("\n"))
                widths[index] = max(widths[index], min(longest + 2, _MAX_WIDTH))
    for index, width in enumerate(widths, start=1):
        if header[index - 1] in dates:
            width = max(width, 20)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    bold = Font(bold=True)
    heading = []
    for name in header:
        cell = WriteOnlyCell(sheet, name)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    wrap = Alignment(wrap_text=True, vertical="top")
    kinds = ["date" if name in dates else "wrap" if name in wrapped else "text" for name in header]
    for number, row in enumerate(rows, start=2):
        lines = _wrapped_lines(row, kinds, widths)
        if lines > 1:  # spreadsheets do not grow a row for wrapped text they did not lay out
            sheet.row_dimensions[number].height = min(lines * _LINE_POINTS, _MAX_ROW_POINTS)
        sheet.append([_xlsx_cell(sheet, v, k, wrap) for v, k in zip(row, kinds, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_WIDTH_SAMPLE = 500  # the rows a column's width is measured on
_MAX_WIDTH = 60
_LINE_POINTS = 15  # a line of the default 11-point font
_MAX_ROW_POINTS = 409  # the tallest row a spreadsheet takes


def _wrapped_lines(row: list, kinds: list[str], widths: list[int]) -> int:
    """The lines the row's tallest wrapped cell takes in its column's width."""
    tallest = 1
    for value, kind, width in zip(row, kinds, widths, strict=True):
        if not isinstance(value, str) or not _is_wrapped(value, kind):
            continue
        per_line = max(width - 2, 1)
        lines = sum(max(1, -(-len(line) // per_line)) for line in value.split("\n"))
        tallest = max(tallest, lines)
    return tallest


def _is_wrapped(text: str, kind: str) -> bool:
    return "\n" in text or (kind == "wrap" and len(text) > _MAX_WIDTH)


def _xlsx_cell(sheet, value, kind: str, wrap):
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    if kind == "date":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            cell = WriteOnlyCell(sheet, moment if len(text) > 10 else moment.date())
            cell.number_format = "dd.mm.yyyy hh:mm:ss" if len(text) > 10 else "dd.mm.yyyy"
            return cell
    # The guard stays only where the import needs it to give back exactly this text: before
    # a leading tab or line break (the import strips whitespace around unguarded text) and
    # before a guard that precedes a formula-looking text.
    if text.startswith(("\t", "\r", "\n")) or restore(text) != text:
        text = neutralise(text)
    long = _is_wrapped(text, kind)
    if not (long or text.startswith("=") or _NUMBER_OR_DATE_LIKE.match(text)):
        return text  # openpyxl writes any other text as a string cell
    cell = WriteOnlyCell(sheet)
    # A text-typed cell, set after the value so that openpyxl takes nothing for a formula,
    # formatted as text (@) where a spreadsheet would otherwise guess a number or date.
    cell.value = text
    cell.data_type = "s"
    cell.number_format = "@"
    if long:
        cell.alignment = wrap
    return cell


# A text a spreadsheet would take for a number, date or time when it is edited (1.10, 0042,
# 3/4, 10:00, 1e5): typed as text in its format too.
_NUMBER_OR_DATE_LIKE = re.compile(r"^[\d\s.,:/+-]+$|^\d+[eE]\d+$")


def _out_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return neutralise(str(value))
