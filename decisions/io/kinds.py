"""The KINDs of FORMATS.md: their columns, keys and dependency order, and how a table of text
cells becomes checked, typed rows. Cell-level rules only; references and workflow rules are
the importer's."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from decisions import identity
from decisions.i18n import _
from decisions.io.formats import Table, restore
from decisions.model import (
    ALL_STAGES,
    CRITICALITIES,
    DEFECT_STATUSES,
    ORGANIZATION_KINDS,
    ROLES,
    RUN_RESULTS,
    SCOPES,
    STAGES,
    TEST_KINDS,
    VERDICTS,
)
from decisions.services import MAX_TEXT, MAX_TITLE, invisible_character

MAX_CODE = 40
HELD_STAGES = STAGES[STAGES.index("built") :]  # the stages an edit after built may hold
MAX_URL = 2000
_CODE = re.compile(r"^[^\s;]+$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"  # text code ref email date int number choice list emails yesno
    required: bool = False  # the header must carry it
    filled: bool | None = None  # the cell must be filled (default: when required)
    choices: tuple[str, ...] = ()
    limit: int = MAX_TEXT
    low: float | None = None
    high: float | None = None

    @property
    def must_fill(self) -> bool:
        return self.required if self.filled is None else self.filled


def _c(name: str, type_: str = "text", **options) -> Column:
    return Column(name, type_, **options)


def _r(name: str, type_: str = "text", **options) -> Column:
    return Column(name, type_, required=True, **options)


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    column: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", {c.name: c for c in self.columns})

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


_NAME = {"limit": MAX_TITLE}

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("organizations", (_r("code", "code"), _r("name", **_NAME),
             _r("kind", "choice", choices=ORGANIZATION_KINDS)), ("code",)),
        Kind("domains", (_r("code", "code"), _r("name", **_NAME)), ("code",)),
        Kind("forums", (_r("code", "code"), _r("name", **_NAME),
             _r("level", "int", low=1, high=3), _r("scope", "choice", choices=SCOPES),
             _c("domains", "list")), ("code",)),
        Kind("modules", (_r("code", "code"), _r("name", **_NAME), _r("domain", "ref")),
             ("code",)),
        Kind("waves", (_r("code", "code"), _r("name", **_NAME), _r("go_live", "date"),
             _r("organizations", "list"), _c("replan_reason")), ("code",)),
        Kind("experts", (_r("email", "email"), _r("name", **_NAME), _r("organization", "ref"),
             _r("domains", "list", filled=False), _r("roles", "list", choices=ROLES),
             _r("allocation_pct", "int", low=1, high=100), _c("forums", "list"),
             _c("active", "yesno")), ("email",)),
        Kind("decisions", (_r("key", "code"), _r("title", **_NAME), _r("domain", "ref"),
             _r("module", "ref"), _r("forum", "ref"), _r("scope", "choice", choices=SCOPES),
             _r("organizations", "list"),
             _r("criticality", "choice", choices=CRITICALITIES),
             _r("stage", "choice", choices=ALL_STAGES), _c("question"), _c("decision"),
             _c("rationale"), _c("decided_at", "date"), _c("decided_by", "emails"),
             _c("needed_by", "date"), _c("owner", "email"),
             _c("version", "int", low=1, high=10_000), _c("version_started_at", "date"),
             _c("built_at", "date"), _c("ready_at", "date"), _c("withdrawn_reason"),
             _c("stage_cap", "choice", choices=HELD_STAGES), _c("stage_cap_since", "date")),
             ("key",)),
        Kind("demos", (_r("key", "code"), _r("date", "date"), _r("module", "ref"),
             _r("decisions", "list"), _r("presenter", "email"),
             _r("attendees", "emails", filled=False), _c("notes"),
             _c("recording_url", limit=MAX_URL), _c("invitees", "emails"),
             _c("start_time"), _c("duration_min", "int", low=5, high=720), _c("place"),
             _c("meeting_url", limit=MAX_URL), _c("cancelled", "yesno")), ("key",)),
        Kind("approvals", (_r("decision", "code"), _r("expert", "email"),
             _r("verdict", "choice", choices=VERDICTS), _r("date", "date"), _c("comment")),
             ("decision", "expert", "date")),
        Kind("test-cases", (_r("key", "code"), _r("title", **_NAME),
             _r("kind", "choice", choices=TEST_KINDS), _r("decisions", "list")), ("key",)),
        Kind("defects", (_r("key", "code"), _r("title", **_NAME),
             _r("severity_vendor", "int", low=1, high=4),
             _r("severity_clinical", "int", low=1, high=4),
             _r("status", "choice", choices=DEFECT_STATUSES), _c("decision", "code"),
             _c("test_case", "code"), _c("opened", "date"), _c("closed", "date")), ("key",)),
        Kind("test-runs", (_r("test_case", "code"), _r("date", "date"),
             _r("result", "choice", choices=RUN_RESULTS), _r("tester", "email"),
             _c("defect", "code"), _c("notes")), ("test_case", "date", "tester")),
        Kind("criteria", (_r("wave", "code"), _r("code", "code"), _r("name", **_NAME),
             _r("kind", "choice", choices=("computed", "reported")), _r("metric", **_NAME),
             _r("comparator", "choice", choices=(">=", "<=", "==")),
             _r("threshold", "number"), _c("owner", "email"), _c("waiver_reason"),
             _c("waiver_until", "date")), ("wave", "code")),
        Kind("measurements", (_r("wave", "code"), _r("criterion", "code"), _r("date", "date"),
             _r("value", "number"), _r("reported_by", "email"),
             _c("evidence_url", limit=MAX_URL)), ("wave", "criterion", "date")),
    )
}  # fmt: skip

ORDER: tuple[str, ...] = tuple(KINDS)


def kind_or_none(name: str) -> Kind | None:
    return KINDS.get(name.strip().lower().replace("_", "-"))


def guess_kind(header: list[str]) -> str | None:
    """The KIND whose columns fit this header best, or None when none carries its required
    columns."""
    names = {h.strip().lower() for h in header}
    fitting = [
        (len(names & set(k.header)) - len(names - set(k.header)), k.name)
        for k in KINDS.values()
        if set(k.required) <= names
    ]
    return max(fitting)[1] if fitting else None


# Rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    file: str
    row: int  # 1 is the header; 0 is the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


@dataclass
class Row:
    number: int
    values: dict  # column -> typed value (None or [] when empty)
    errors: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what importing it did beyond its columns
    # What an xlsx cell held when not text, by column: "bool", "number", "date" or "time".
    cell_types: dict[str, str] = field(default_factory=dict)

    def key(self, kind: Kind) -> tuple:
        return tuple(self.values.get(c) for c in kind.key)


class CellError(ValueError):
    pass


def check_header(kind: Kind, header: list[str], file: str) -> list[Issue]:
    """Missing, unknown, duplicate and blank column names."""
    issues = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        label = name.strip().lower()
        if not label:
            issues.append(Issue(file, 1, f"#{position}", _("a column without a name")))
        elif label not in kind.column:
            issues.append(
                Issue(
                    file,
                    1,
                    name,
                    _(
                        "unknown column for {kind}; expected {columns}",
                        kind=kind.name,
                        columns=", ".join(kind.header),
                    ),
                )  # fmt: skip
            )
        elif label in seen:
            issues.append(Issue(file, 1, name, _("the column appears twice")))
        seen.add(label)
    for name in kind.required:
        if name not in seen:
            issues.append(Issue(file, 1, name, _("required column {name} is missing", name=name)))
    return issues


def parse_rows(kind: Kind, table: Table, file: str, *, norwegian: bool = False) -> list[Row]:
    """Typed rows; each carries its cell errors."""
    header = [h.strip().lower() for h in table.header]
    width = len(header)
    columns = [(i, kind.column[name]) for i, name in enumerate(header) if name in kind.column]
    optional = {c.name for _index, c in columns if not c.must_fill}
    lists = {c.name for _index, c in columns if c.type in ("list", "emails")}
    rows = []
    for at, (number, cells) in enumerate(zip(table.numbers, table.rows, strict=True)):
        held = {
            c.name: table.cell_types[(at, i)] for i, c in columns if (at, i) in table.cell_types
        }
        row = Row(number=number, values={}, cell_types=held)
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            row.errors.append(
                Issue(
                    file,
                    number,
                    f"#{width + 1}",
                    _("more cells than the {width} columns", width=width),
                )
            )
        for index, column in columns:
            raw = cells[index] if index < len(cells) else ""
            if not raw and column.name in optional:
                row.values[column.name] = [] if column.name in lists else None
                continue
            try:
                row.values[column.name] = parse_cell(column, raw, norwegian=norwegian)
            except CellError as error:
                row.errors.append(Issue(file, number, column.name, str(error)))
        rows.append(row)
    return rows


def parse_cell(column: Column, raw: str, *, norwegian: bool = False):
    """One cell as its typed value; raises CellError saying what was expected."""
    text = restore(raw)
    if raw[:1] != "'" or text == raw:  # a neutralised cell keeps its leading tab or line break
        text = text.rstrip() if column.name == "decision" else text.strip()
    if not text:
        if column.must_fill:
            raise CellError(_("{column} is required", column=column.name))
        return [] if column.type in ("list", "emails") else None
    if len(text) > column.limit:
        raise CellError(_("too long: {length} characters, at most {limit}", length=len(text),
                          limit=column.limit))  # fmt: skip
    if column.type in _VISIBLE_ONLY or column.name == "name":
        found = invisible_character(text)
        if found:
            raise CellError(
                _(
                    "holds the invisible character {found}; keys, emails and names take visible "
                    "characters only",
                    found=found,
                )
            )
    parse = _PARSERS[column.type]
    return parse(column, text, norwegian)


def plain(value):
    """A cell's value as compared with the record: a text's line endings and surrounding
    whitespace are no change (a spreadsheet turns CRLF into LF); empty is None."""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return None if value == "" else value


def db_value(column: Column, value):
    """A stored value typed as `parse_cell` types a file's cell, so the two compare."""
    if value is None or value == "":
        return [] if column.type in ("list", "emails") else None
    if column.type in ("list", "emails"):
        return str(value).split(";")
    if column.type == "yesno":
        return value == "yes"
    if column.type == "int":
        return int(value)
    if column.type == "number":
        return float(value)
    return value


def _text(column: Column, text: str, norwegian: bool) -> str:
    return text


def _code(column: Column, text: str, norwegian: bool) -> str:
    if len(text) > MAX_CODE or not _CODE.match(text):
        raise CellError(_("{text} is not a code (no spaces or ';', at most {limit} characters)",
                          text=repr(text), limit=MAX_CODE))  # fmt: skip
    return text


def _email(column: Column, text: str, norwegian: bool) -> str:
    text = text.lower()
    if not identity.is_mailbox(text):
        raise CellError(_("{text} is not an email address", text=repr(text)))
    return text


def _date(column: Column, text: str, norwegian: bool) -> str:
    if norwegian:
        found = _NORWEGIAN_DATE.match(text)
        if found:
            return _norwegian_date(text, found)
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
        if len(text) < 16 or text[4] != "-":
            raise ValueError
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.replace(microsecond=0, tzinfo=None).isoformat()
    except ValueError:
        expected = "DD.MM.YYYY or YYYY-MM-DD" if norwegian else "YYYY-MM-DD"
        raise CellError(_("{text} is not a date; expected {expected}", text=repr(text),
                          expected=expected)) from None  # fmt: skip


# dd.mm.yyyy (or dd.mm.yy) with an optional time, as a spreadsheet in a Norwegian locale
# writes dates.
_NORWEGIAN_DATE = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
# What a spreadsheet makes of a decimal number it takes for a date: 1.1 -> 01.01.2026 (or
# 2026-01-01 in an xlsx), 11.9 -> 11.09.2026, or 11.sep.
_DATE_FROM_NUMBER = (
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.\d{2,4}(?: 00:00(?::00)?)?$"),
    re.compile(r"^\d{4}-(?P<m>\d{2})-(?P<d>\d{2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(?P<d>\d{1,2})\.? ?(?P<m>[a-zA-Z]{3})\.?$"),
)
_MONTHS = ("jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des")


def _norwegian_date(text: str, found: re.Match) -> str:
    day, month, year, hour, minute, second = found.groups()
    if len(year) == 2:  # 16.11.21 14:05, as LibreOffice shows a timestamp
        year = "20" + year
    try:
        if hour is None:
            return dt.date(int(year), int(month), int(day)).isoformat()
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute),
                           int(second or 0)).isoformat()  # fmt: skip
    except ValueError:
        raise CellError(_("{text} is not a date; expected DD.MM.YYYY or YYYY-MM-DD",
                          text=repr(text))) from None  # fmt: skip


def number_made_date(text: str) -> str | None:
    """The decimal number a spreadsheet probably turned into this date ('01.01.2026' ->
    '1.1'), or None when `text` does not look like such a date."""
    for pattern in _DATE_FROM_NUMBER:
        found = pattern.match(text.strip())
        if found:
            month = found["m"]
            if month.isalpha():
                if month.lower()[:3] not in _MONTHS + ("may", "oct", "dec"):
                    return None
                names = _MONTHS + ("may", "oct", "dec")
                month = str((names.index(month.lower()[:3]) % 12) + 1)
            if not 1 <= int(month) <= 12:
                return None
            return f"{int(found['d'])}.{int(month)}"
        continue
    return None


def _number(column: Column, text: str, norwegian: bool) -> float:
    candidate = text.replace(",", ".").replace("\u00a0", "").replace(" ", "") if norwegian else text
    try:
        value = float(candidate)
    except ValueError:
        guess = number_made_date(text)
        if guess is not None:
            shown = guess.replace(".", ",") if norwegian else guess
            raise CellError(_("{text} is a date in a number column: a spreadsheet probably made "
                              "it of the number {number}; write the number and import again",
                              text=repr(text), number=shown)) from None  # fmt: skip
        raise CellError(_("{text} is not a number", text=repr(text))) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise CellError(_("{text} is not a number", text=repr(text)))
    _in_range(column, value, text)
    return value


def _int(column: Column, text: str, norwegian: bool) -> int:
    value = _number(Column(column.name), text, norwegian)
    if not value.is_integer():
        raise CellError(_("{text} is not a whole number", text=repr(text)))
    _in_range(column, value, text)
    return int(value)


def _in_range(column: Column, value: float, text: str) -> None:
    low, high = column.low, column.high
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellError(_("{text} is out of range; expected {low} to {high}", text=text,
                          low=f"{low:g}", high=f"{high:g}"))  # fmt: skip


def _choice(column: Column, text: str, norwegian: bool) -> str:
    if text not in column.choices:
        lowered = text.lower()
        if lowered in column.choices:
            return lowered
        raise CellError(_("{text} is not one of {choices}", text=repr(text),
                          choices=", ".join(column.choices)))  # fmt: skip
    return text


def _list(column: Column, text: str, norwegian: bool) -> list[str]:
    items = list(dict.fromkeys(item.strip() for item in text.split(";") if item.strip()))
    if column.choices:
        wrong = [i for i in items if i.lower() not in column.choices]
        if wrong:
            raise CellError(_("{wrong}: expected {choices}", wrong=", ".join(wrong),
                              choices=", ".join(column.choices)))  # fmt: skip
        items = [i.lower() for i in items]
    if column.must_fill and not items:
        raise CellError(_("{column} is required", column=column.name))
    return items


def _emails(column: Column, text: str, norwegian: bool) -> list[str]:
    return [_email(column, item, False) for item in _list(column, text, False)]


def _yesno(column: Column, text: str, norwegian: bool) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "true", "1", "ja"):
        return True
    if lowered in ("no", "false", "0", "nei"):
        return False
    raise CellError(_("{text}: expected yes or no", text=repr(text)))


# Keys, codes, references to them, emails and lists of them (names: the `name` columns).
_VISIBLE_ONLY = ("code", "ref", "email", "emails", "list")

_PARSERS = {
    "text": _text,
    "code": _code,
    "ref": _text,
    "email": _email,
    "date": _date,
    "int": _int,
    "number": _number,
    "choice": _choice,
    "list": _list,
    "emails": _emails,
    "yesno": _yesno,
}
