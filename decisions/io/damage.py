"""What a spreadsheet's type guessing does to a file's cells, found against what is on record
before any row is applied: a code that lost its leading zeros is matched to the code on
record; a text the spreadsheet made a number, a date or a truth value keeps the stored text,
with a note saying what the spreadsheet did; a cell whose text is lost and has no stored text
to keep (a truth value, a date, a number rounded to 15 digits) is refused, naming the cell. So an
import changes only what the person changed."""

from __future__ import annotations

import re
from collections.abc import Callable

from decisions.i18n import _
from decisions.io.kinds import Kind, Row

Refuse = Callable[[Row, str, str], None]

# The list a code column's values come from, by column name; `code` and `key` name the
# KIND's own.
_CODE_LISTS = {
    "organization": "organizations", "organizations": "organizations", "domain": "domains",
    "domains": "domains", "forum": "forums", "forums": "forums", "module": "modules",
    "wave": "waves", "decision": "decisions", "decisions": "decisions",
    "test_case": "test_cases", "defect": "defects",
}  # fmt: skip
_OWN_LISTS = {"organizations": "organizations", "domains": "domains", "forums": "forums",
              "modules": "modules", "waves": "waves", "decisions": "decisions",
              "test-cases": "test_cases", "defects": "defects"}  # fmt: skip
# Spreadsheets keep 15 significant digits of a number.
_DIGITS_KEPT = 15
_TRUTH = {"true": True, "sann": True, "ja": True, "yes": True,
          "false": False, "usann": False, "nei": False, "no": False}  # fmt: skip
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
# A short text a spreadsheet takes for a date (3/4, 1.2, 12-5), and what it makes of it.
_DATE_LIKE_SOURCE = re.compile(r"^\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?$")
_DATE_LIKE = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}(?:[ T][\d:]+)?|\d{1,2}[./]\d{1,2}[./]\d{2,4}(?: [\d:]+)?"
    r"|\d{1,2}[.-] ?[A-Za-z]{3}\.?)$"
)
# A number as a spreadsheet writes it in scientific notation: 1,23456789012346E+019.
_SCIENTIFIC = re.compile(r"^[+-]?\d[.,]\d+E[+-]\d{2,3}$")


def code_list(kind: Kind, column: str) -> str | None:
    """The list of codes (a key of the reference catalog) a column's values come from."""
    if column in ("code", "key"):
        return _OWN_LISTS.get(kind.name)
    return _CODE_LISTS.get(column)


def match_codes(kind: Kind, rows: list[Row], catalog: dict, refuse: Refuse) -> None:
    """A code a spreadsheet read as a number (301 for 0301) is the code on record it equals;
    one that equals several is refused. Never a new record or an unknown reference."""
    lists = {
        c.name: code_list(kind, c.name) for c in kind.columns if c.type in ("code", "ref", "list")
    }
    for row in rows:
        if row.errors:
            continue
        for column, listed in lists.items():
            value = row.values.get(column)
            if not listed or not value:
                continue
            codes = catalog[listed]
            if isinstance(value, list):
                row.values[column] = [_code_on_record(row, column, v, codes, refuse) for v in value]
            else:
                row.values[column] = _code_on_record(row, column, value, codes, refuse)


def _code_on_record(row: Row, column: str, given: str, codes, refuse: Refuse) -> str:
    if not given.isdigit() or given.startswith("0") or given in codes:
        return given  # a number as a spreadsheet writes it has no leading zero
    padded = [c for c in codes if isinstance(c, str) and c.isdigit() and int(c) == int(given)]
    if len(padded) == 1:
        row.notes.append(_("{column}: {given} is the code {code} without its leading zeros (a "
                           "spreadsheet read it as a number); matched {code}", column=column,
                           given=given, code=padded[0]))  # fmt: skip
        return padded[0]
    if padded:
        refuse(row, column, _("{given} may be any of the codes {codes} without its leading "
                              "zeros (a spreadsheet read it as a number); write the code as "
                              "text", given=given, codes=", ".join(sorted(padded))))  # fmt: skip
    return given


def what_spreadsheet_did(stored: str, given: str) -> str | None:
    """How `given` is what a spreadsheet's type guessing makes of the text `stored`:
    "number" (1.10 -> 1.1, 0042 -> 42, 1e5 -> 100000), "rounded" (a number of more than 15
    digits), "date" (3/4 or 1.10 made a date), "truth" (SANN -> TRUE), or None."""
    stored, given = stored.strip(), given.strip()
    if stored == given:
        return None
    numbers = [_as_number(t) for t in (stored, given)]
    if None not in numbers:
        if numbers[0] == numbers[1]:
            return "number"
        if _significant(numbers[0]) == _significant(numbers[1]) and _long(stored):
            return "rounded"
    if _DATE_LIKE_SOURCE.match(stored) and _DATE_LIKE.match(given):
        return "date"
    truths = [_TRUTH.get(t.lower()) for t in (stored, given)]
    if None not in truths and truths[0] == truths[1]:
        return "truth"
    return None


def spreadsheet_mangled(stored: str, given: str) -> bool:
    """Whether `given` is what a spreadsheet's type guessing makes of the text `stored`."""
    return what_spreadsheet_did(stored, given) is not None


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _significant(number: float) -> str:
    return f"{number:.{_DIGITS_KEPT}g}"


def _long(text: str) -> bool:
    return sum(c.isdigit() for c in text) > _DIGITS_KEPT


def _lost(given: str, held: str | None) -> str | None:
    """Why a cell's text is lost whatever was on record: "truth" for a truth value, "date" for
    a date (1.10 and 01.10.2026 make the same), "rounded" for a number the spreadsheet kept to
    15 digits, else None."""
    if held == "bool":
        return "truth"
    if held == "date":
        return "date"
    if _SCIENTIFIC.match(given) or (held == "number" and _long(given)):
        return "rounded"
    return None


def keep_stored_texts(kind: Kind, rows: list[Row], existing: dict, refuse: Refuse) -> None:
    """A text cell that differs from the record only as a spreadsheet's type guessing changes
    text keeps the record's text, with a note, instead of making an edit (a new decision
    version); one whose text is lost and not on record is refused. A timestamp shown to the
    minute (16.11.21 14:05 for 14:05:09) keeps the record's seconds."""
    texts = [c.name for c in kind.columns if c.type == "text" and c.name not in kind.key]
    stamps = [c.name for c in kind.columns if c.type == "date" and c.name not in kind.key]
    for row in rows:
        if row.errors:
            continue
        current = existing.get(row.key(kind)) or {}
        for name in stamps:
            given, stored = row.values.get(name), current.get(name)
            if given and stored and len(stored) == 19 and given == stored[:16] + ":00":
                row.values[name] = stored
        for name in texts:
            _keep_text(row, name, current.get(name), refuse)


def _keep_text(row: Row, name: str, stored: str | None, refuse: Refuse) -> None:
    given = row.values.get(name)
    if not given or given == stored:
        return
    if stored and given == f"{stored}:00" and _CLOCK.match(stored):
        row.values[name] = stored  # 10:00 read as a time, saved as 10:00:00
        return
    held = row.cell_types.get(name)
    shown = {"yes": "TRUE", "no": "FALSE"}.get(given, given) if held == "bool" else given
    did = what_spreadsheet_did(stored, given) if stored else None
    if did:
        row.values[name] = stored
        row.notes.append(_note(did, name, shown, stored))
        return
    lost = _lost(given, held)
    if lost:
        refuse(row, name, _refusal(lost, shown))


def _note(did: str, column: str, given: str, stored: str) -> str:
    given, stored = repr(given), repr(stored)
    if did == "truth":
        return _("{column}: a spreadsheet made the text {stored} a truth value ({given}); kept "
                 "{stored}", column=column, given=given, stored=stored)  # fmt: skip
    if did == "rounded":
        return _("{column}: a spreadsheet rounded the number {stored} to 15 digits ({given}); "
                 "kept {stored}", column=column, given=given, stored=stored)  # fmt: skip
    if did == "date":
        return _("{column}: a spreadsheet made the text {stored} a date ({given}); kept {stored}",
                 column=column, given=given, stored=stored)  # fmt: skip
    return _("{column}: a spreadsheet made the text {stored} a number ({given}); kept {stored}",
             column=column, given=given, stored=stored)  # fmt: skip


def _refusal(lost: str, given: str) -> str:
    if lost == "truth":
        return _("a spreadsheet made this text a truth value ({given}), and the text is lost; "
                 "format the column as text, type the text again and import again",
                 given=given)  # fmt: skip
    if lost == "date":
        return _("a spreadsheet made this text a date ({given}), and the text is lost; format "
                 "the column as text, type the text again and import again",
                 given=given)  # fmt: skip
    return _("{given} is a number a spreadsheet rounded to 15 digits, and the digits beyond "
             "are lost; format the column as text, type it again and import again",
             given=repr(given))  # fmt: skip
