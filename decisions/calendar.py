"""Upcoming demos as an iCalendar file (RFC 5545), so experts can put them in their calendars.
A pure function of plain values: no storage, no clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

PRODID = "-//Decision tracker//Demos//EN"
UID_DOMAIN = "demos.decision-tracker"
MAX_OCTETS = 75
DEMO_LENGTH = dt.timedelta(hours=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarDemo:
    key: str
    date: str  # 'YYYY-MM-DD' (all day) or 'YYYY-MM-DDTHH:MM[:SS]' (local time, one hour)
    module: str
    module_name: str
    presenter: tuple[str, str] | None = None  # (email, name)
    decisions: tuple[str, ...] = ()  # one line each, e.g. 'MED-0042 Double-check of infusions'
    invitees: tuple[tuple[str, str], ...] = ()  # (email, name)
    notes: str = ""
    sequence: int = 0  # bumped on every change, so calendars replace the earlier copy


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def param_value(value: str) -> str:
    """A parameter value (RFC 5545 3.2): quoted when it holds ':', ';' or ','; a double quote
    cannot appear in one at all, so it becomes a single quote."""
    value = _CONTROL.sub("", value.replace("\n", " ")).replace('"', "'")
    return f'"{value}"' if any(c in value for c in ":;,") else value


def fold(line: str) -> str:
    """Lines longer than 75 octets folded with CRLF and a space (RFC 5545 3.1), never inside a
    UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = MAX_OCTETS if not parts else MAX_OCTETS - 1  # continuation lines start with " "
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _when(date: str) -> list[str]:
    if len(date) == 10:
        day = dt.date.fromisoformat(date)
        return [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
        ]
    start = dt.datetime.fromisoformat(date).replace(tzinfo=None, microsecond=0)
    return [f"DTSTART:{start:%Y%m%dT%H%M%S}", f"DTEND:{start + DEMO_LENGTH:%Y%m%dT%H%M%S}"]


def _event(demo: CalendarDemo, stamp: str) -> list[str]:
    description = "Decisions shown:\n" + "\n".join(demo.decisions or ("(none listed)",))
    if demo.presenter:
        description += f"\n\nPresenter: {demo.presenter[1]} <{demo.presenter[0]}>"
    if demo.notes:
        description += f"\n\n{demo.notes}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(demo.key)}@{UID_DOMAIN}",
        f"DTSTAMP:{stamp}",
        f"SEQUENCE:{demo.sequence}",
        *_when(demo.date),
        f"SUMMARY:{escape_text(f'Demo: {demo.module_name} ({demo.module})')}",
        f"DESCRIPTION:{escape_text(description)}",
        f"CATEGORIES:{escape_text(demo.module)}",
    ]
    if demo.presenter:
        lines.append(f"ORGANIZER;CN={param_value(demo.presenter[1])}:mailto:{demo.presenter[0]}")
    lines += [
        f"ATTENDEE;CN={param_value(name)};ROLE=REQ-PARTICIPANT:mailto:{email}"
        for email, name in demo.invitees
    ]
    return [*lines, "END:VEVENT"]


def demos_calendar(
    demos: Iterable[CalendarDemo], *, stamp: dt.datetime, name: str = "Demos"
) -> str:
    """The demos as one VCALENDAR text with CRLF line ends; `stamp` is when it was made
    (DTSTAMP, in UTC)."""
    utc = stamp.astimezone(dt.UTC) if stamp.tzinfo else stamp
    stamp_text = f"{utc:%Y%m%dT%H%M%S}Z"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for demo in demos:
        lines += _event(demo, stamp_text)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
