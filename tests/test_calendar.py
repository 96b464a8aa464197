"""The demo calendar: valid RFC 5545 text, escaped, folded, readable by a calendar parser."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisions import evidence
from decisions.calendar import CalendarDemo, demos_calendar, escape_text, fold, param_value

STAMP = dt.datetime(2022, 9, 15, 8, 30, tzinfo=dt.UTC)

DEMO = CalendarDemo(
    key="DEMO-0007",
    date="2022-09-20",
    module="MED-ADM",
    module_name="Legemiddel; administrasjon, dosering",
    presenter=("ana@hemit.no", 'Ana "Analytiker", Hemit'),
    decisions=("MED-0042 Dobbeltkontroll av høyrisiko-infusjoner", "MED-0043 Back\\slash"),
    invitees=(("hanne@stolav.no", "Hanne Ødegård"), ("per@stolav.no", "Per")),
    notes="Rom 3; ta med PC,\nog spørsmål",
    sequence=2,
)


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


def test_the_calendar_has_crlf_lines_an_event_per_demo_and_all_day_dates():
    text = demos_calendar([DEMO, CalendarDemo("DEMO-0008", "2022-09-21T13:00:00", "LAB-ORD",
                                              "Lab orders")], stamp=STAMP)  # fmt: skip
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines
    assert lines.count("BEGIN:VEVENT") == 2
    assert "DTSTART;VALUE=DATE:20220920" in lines and "DTEND;VALUE=DATE:20220921" in lines
    assert "DTSTART:20220921T130000" in lines and "DTEND:20220921T140000" in lines
    assert "DTSTAMP:20220915T083000Z" in lines
    assert "UID:DEMO-0007@demos.decision-tracker" in lines
    assert "SUMMARY:Demo: Legemiddel\\; administrasjon\\, dosering (MED-ADM)" in lines
    assert "ORGANIZER;CN=\"Ana 'Analytiker', Hemit\":mailto:ana@hemit.no" in lines
    assert "ATTENDEE;CN=Hanne Ødegård;ROLE=REQ-PARTICIPANT:mailto:hanne@stolav.no" in lines
    assert "SEQUENCE:2" in lines


def test_an_empty_calendar_is_still_a_calendar():
    assert unfold(demos_calendar([], stamp=STAMP))[-2:] == ["END:VCALENDAR", ""]


def test_a_calendar_parser_reads_back_what_was_written():
    icalendar = pytest.importorskip("icalendar")
    calendar = icalendar.Calendar.from_ical(demos_calendar([DEMO], stamp=STAMP))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Demo: Legemiddel; administrasjon, dosering (MED-ADM)"
    description = str(event["DESCRIPTION"])
    assert "MED-0042 Dobbeltkontroll av høyrisiko-infusjoner\nMED-0043 Back\\slash" in description
    assert description.endswith("Rom 3; ta med PC,\nog spørsmål")
    assert event.decoded("DTSTART") == dt.date(2022, 9, 20)
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:hanne@stolav.no",
                                                   "mailto:per@stolav.no"]  # fmt: skip
    assert event["ATTENDEE"][0].params["CN"] == "Hanne Ødegård"


def test_upcoming_demos_from_the_database_make_a_calendar(programme, actor, decision_at):
    key = decision_at("built")
    demo = evidence.save_demo(programme, actor("ana@hemit.no"), module="MED-ADM",
                              date="2022-09-22", decisions=[key], presenter="ana@hemit.no",
                              invitees=["hanne@stolav.no"], held=False)  # fmt: skip
    lines = unfold(evidence.demos_ics(programme, [demo]))
    assert f"UID:{demo}@demos.decision-tracker" in lines
    assert "ATTENDEE;CN=Hanne;ROLE=REQ-PARTICIPANT:mailto:hanne@stolav.no" in lines
    assert any(line.startswith("DESCRIPTION:Decisions shown:\\nMED-0001 ") for line in lines)
    assert "ORGANIZER;CN=Ana:mailto:ana@hemit.no" in lines
