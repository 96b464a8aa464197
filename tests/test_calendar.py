"""Demo invitations: valid RFC 5545 text, escaped, folded, in Europe/Oslo time, readable by
calendar parsers (icalendar, and vobject independently)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisions import evidence
from decisions.calendar import DemoEvent, calendar, escape_text, fold, param_value

STAMP = dt.datetime(2022, 9, 15, 8, 30, tzinfo=dt.UTC)

DEMO = DemoEvent(
    key="DEMO-0007",
    day="2022-09-20",
    start_time="10:00",
    duration_min=60,
    module="MED-ADM",
    module_name="Legemiddel; administrasjon, dosering",
    organizer=("ana@hemit.no", 'Ana "Analytiker", Hemit'),
    decisions=("MED-0042 Dobbeltkontroll av høyrisiko-infusjoner", "MED-0043 Back\\slash"),
    attendees=(("hanne@stolav.no", "Hanne Ødegård"), ("per@stolav.no", "Per")),
    place="Rom 3",
    notes="Rom 3; ta med PC,\nog spørsmål",
    sequence=2,
)
WINTER = DemoEvent("DEMO-0008", "2022-12-01", "13:00", 45, "LAB-ORD", "Lab orders",
                   ("ana@hemit.no", "Ana"))  # fmt: skip


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a;b,c", "a\\;b\\,c"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak\r\nand\rmore", "line\\nbreak\\nand\\nmore"),
        ("bell\x07tab\tkept", "belltab\tkept"),
        ("æøå ÆØÅ", "æøå ÆØÅ"),
    ],
)
def test_text_values_are_escaped(raw, escaped):
    assert escape_text(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "value"),
    [("Per", "Per"), ("Hemit, Trondheim", '"Hemit, Trondheim"'), ('Ana "A"', "Ana 'A'"),
     ("a:b", '"a:b"')],
)  # fmt: skip
def test_parameter_values_are_quoted_when_needed(raw, value):
    assert param_value(raw) == value


@given(st.text(min_size=0, max_size=400))
def test_folding_keeps_every_line_within_75_octets_and_unfolds_to_the_original(line):
    line = line.replace("\r", "").replace("\n", "")
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_the_calendar_has_crlf_lines_an_event_per_demo_and_oslo_times():
    text = calendar([DEMO, WINTER], method="PUBLISH", stamp=STAMP)
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines and "METHOD:PUBLISH" in lines
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("BEGIN:VTIMEZONE") == 1
    assert "DTSTART;TZID=Europe/Oslo:20220920T100000" in lines
    assert "DTEND;TZID=Europe/Oslo:20220920T110000" in lines
    assert "DTEND;TZID=Europe/Oslo:20221201T134500" in lines
    assert "DTSTAMP:20220915T083000Z" in lines
    assert "UID:DEMO-0007@demos.decision-tracker" in lines
    assert "SUMMARY:Demo: Legemiddel\\; administrasjon\\, dosering (MED-ADM)" in lines
    assert "ORGANIZER;CN=\"Ana 'Analytiker', Hemit\":mailto:ana@hemit.no" in lines
    assert ("ATTENDEE;CN=Hanne Ødegård;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:"
            "mailto:hanne@stolav.no") in lines  # fmt: skip
    assert "SEQUENCE:2" in lines and "LOCATION:Rom 3" in lines


def test_an_invitation_asks_for_a_reply_and_a_cancellation_says_cancelled():
    request = unfold(calendar([DEMO], method="REQUEST", stamp=STAMP))
    assert "METHOD:REQUEST" in request and "STATUS:CONFIRMED" in request
    assert any(line.endswith("RSVP=TRUE:mailto:per@stolav.no") for line in request)
    cancel = unfold(calendar([DEMO], method="CANCEL", stamp=STAMP))
    assert "METHOD:CANCEL" in cancel and "STATUS:CANCELLED" in cancel
    with pytest.raises(ValueError, match="method must be one of"):
        calendar([DEMO], method="REPLY", stamp=STAMP)


def test_an_empty_calendar_is_still_a_calendar():
    assert unfold(calendar([], method="PUBLISH", stamp=STAMP))[-2:] == ["END:VCALENDAR", ""]


@pytest.mark.parametrize(("event", "utc_hour"), [(DEMO, 8), (WINTER, 12)])
def test_parsers_read_oslo_time_in_summer_and_winter(event, utc_hour):
    text = calendar([event], method="REQUEST", stamp=STAMP)
    icalendar = pytest.importorskip("icalendar")
    parsed = icalendar.Calendar.from_ical(text)
    (ical_event,) = parsed.walk("VEVENT")
    assert ical_event.decoded("DTSTART").astimezone(dt.UTC).hour == utc_hour
    vobject = pytest.importorskip("vobject")
    start = vobject.readOne(text).vevent.dtstart.value
    assert start.astimezone(dt.UTC).hour == utc_hour


def test_a_calendar_parser_reads_back_what_was_written():
    icalendar = pytest.importorskip("icalendar")
    parsed = icalendar.Calendar.from_ical(calendar([DEMO], method="REQUEST", stamp=STAMP))
    (event,) = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Demo: Legemiddel; administrasjon, dosering (MED-ADM)"
    description = str(event["DESCRIPTION"])
    assert "MED-0042 Dobbeltkontroll av høyrisiko-infusjoner\nMED-0043 Back\\slash" in description
    assert description.endswith("Rom 3; ta med PC,\nog spørsmål")
    assert event.decoded("DTSTART").date() == dt.date(2022, 9, 20)
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:hanne@stolav.no",
                                                   "mailto:per@stolav.no"]  # fmt: skip
    assert event["ATTENDEE"][0].params["CN"] == "Hanne Ødegård"


def test_a_demo_from_the_database_makes_an_invitation(programme, actor, decision_at):
    key = decision_at("built")
    demo = evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM",
                              date="2022-09-22", decisions=[key], presenter="ana@hemit.no",
                              invitees=["hanne@stolav.no"], held=False)  # fmt: skip
    (event,) = evidence.demo_events(programme, [demo], "https://x.example.org")
    assert (event.start_time, event.duration_min) == ("10:00", 60)  # the defaults
    lines = unfold(calendar([event], method="REQUEST", stamp=STAMP))
    assert f"UID:{demo}@demos.decision-tracker" in lines
    assert any(line.startswith("ATTENDEE;CN=Hanne;") for line in lines)
    assert any(line.startswith("DESCRIPTION:Decisions shown:\\nMED-0001 ") for line in lines)
    assert "ORGANIZER;CN=Ana:mailto:ana@hemit.no" in lines
    assert "DTSTART;TZID=Europe/Oslo:20220922T100000" in lines


def test_a_demo_date_with_a_time_keeps_that_time(programme, actor, decision_at):
    key = decision_at("built")
    demo = evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM",
                              date="2022-09-22T13:15:00", decisions=[key],
                              presenter="ana@hemit.no", held=False)  # fmt: skip
    (event,) = evidence.demo_events(programme, [demo])
    assert event.start_time == "13:15"
