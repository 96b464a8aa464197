"""Demo invitations as iCalendar (RFC 5545) with iTIP methods (RFC 5546): one event per demo,
its start and end in Europe/Oslo (TZID with the zone's VTIMEZONE, so no calendar reads a
10:00 demo as 10:00 UTC), place or meeting link, organiser and attendees, a UID that stays the
same across changes with a rising SEQUENCE; METHOD:REQUEST invites or updates,
METHOD:CANCEL cancels, METHOD:PUBLISH is a person's own calendar file to import.
A pure function of plain values: no storage, no clock. Its texts (summary, description) are in
the reader's language (decisions.i18n); the codes and times are iCalendar's own."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from decisions.i18n import _

PRODID = "-//Decision tracker//Demos//EN"
UID_DOMAIN = "demos.decision-tracker"
MAX_OCTETS = 75
TZID = "Europe/Oslo"
METHODS = ("REQUEST", "CANCEL", "PUBLISH")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Norway's rules since 1996 (the EU's): CEST from the last Sunday of March 02:00, CET from
# the last Sunday of October 03:00.
VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)


@dataclass(frozen=True)
class DemoEvent:
    key: str
    day: str  # 'YYYY-MM-DD'
    start_time: str  # 'HH:MM', local time in Europe/Oslo
    duration_min: int
    module: str
    module_name: str
    organizer: tuple[str, str]  # (email, name): the presenter
    attendees: tuple[tuple[str, str], ...] = ()  # (email, name): the invited experts
    decisions: tuple[str, ...] = ()  # one line each, e.g. 'MED-0042 Double-check of infusions'
    place: str = ""
    meeting_url: str = ""
    notes: str = ""
    link: str = ""  # the demo in the app
    sequence: int = 0  # rises with every change, so calendars replace the earlier copy
    cancelled: bool = False

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.fromisoformat(f"{self.day[:10]}T{self.start_time[:5]}")

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.duration_min)

    @property
    def uid(self) -> str:
        return f"{self.key}@{UID_DOMAIN}"


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
    if len(line) * 4 <= MAX_OCTETS or len(line.encode()) <= MAX_OCTETS:
        return line
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


def _event(demo: DemoEvent, stamp: str, method: str) -> list[str]:
    description = _("Decisions shown:") + "\n"
    description += "\n".join(demo.decisions or (_("(none listed)"),))
    if demo.meeting_url:
        description += "\n\n" + _("Meeting link: {url}", url=demo.meeting_url)
    description += "\n\n" + _("Presenter: {name} <{email}>", name=demo.organizer[1],
                               email=demo.organizer[0])  # fmt: skip
    if demo.notes:
        description += f"\n\n{demo.notes}"
    if demo.link:
        description += "\n\n" + _("In the tracker: {link}", link=demo.link)
    cancelled = demo.cancelled or method == "CANCEL"
    summary = _("Demo: {module_name} ({module})", module_name=demo.module_name,
                module=demo.module)  # fmt: skip
    if cancelled:
        summary = _("Cancelled: {summary}", summary=summary)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(demo.uid)}",
        f"DTSTAMP:{stamp}",
        f"SEQUENCE:{demo.sequence}",
        f"DTSTART;TZID={TZID}:{demo.start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={TZID}:{demo.end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"CATEGORIES:{escape_text(demo.module)}",
    ]
    location = demo.place or demo.meeting_url
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if demo.meeting_url or demo.link:
        lines.append(f"URL:{escape_text(demo.meeting_url or demo.link)}")
    lines.append(f"ORGANIZER;CN={param_value(demo.organizer[1])}:mailto:{demo.organizer[0]}")
    rsvp = "TRUE" if method == "REQUEST" else "FALSE"
    lines += [
        f"ATTENDEE;CN={param_value(name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
        f"RSVP={rsvp}:mailto:{email}"
        for email, name in demo.attendees
    ]
    return [*lines, "END:VEVENT"]


def calendar(demos: Iterable[DemoEvent], *, method: str, stamp: dt.datetime, name: str = "") -> str:
    """The demos as one VCALENDAR text with CRLF line ends. `method`: REQUEST (an invitation
    or its update, one demo), CANCEL (one demo) or PUBLISH (a person's own calendar file);
    `stamp` is when it was made (DTSTAMP, in UTC)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    utc = stamp.astimezone(dt.UTC) if stamp.tzinfo else stamp
    stamp_text = f"{utc:%Y%m%dT%H%M%S}Z"
    name = name or _("Demos")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        f"X-WR-CALNAME:{escape_text(name)}",
        *VTIMEZONE,
    ]
    for demo in demos:
        lines += _event(demo, stamp_text, method)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
