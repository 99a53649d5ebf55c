"""Tests for the four-parser iCalendar test support (tests/ical_parsers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ical_parsers import (
    PARSERS,
    IcalJsError,
    ParsedEvent,
    UndefinedTzidError,
    parse_all,
    parse_system_tzdata,
)

SAMPLE = Path(__file__).resolve().parents[1] / "static" / "sample-zurich.ics"

# Europe/Zurich: CEST (+02:00) from the last Sunday of March (2023-03-26,
# 2024-03-31), CET (+01:00) from the last Sunday of October (2023-10-29).
EXPECTED = [
    ParsedEvent(
        uid="summer-2023@u4ssc.test",
        summary="U4SSC summer meeting, Geneva",
        status="CONFIRMED",
        sequence=0,
        all_day=False,
        start="2023-07-27T14:00:00Z",  # 16:00 CEST
        end="2023-07-27T15:00:00Z",
        alarms=(),
    ),
    ParsedEvent(
        uid="allday-2023@u4ssc.test",
        summary="U4SSC thematic group day",
        status=None,
        sequence=0,
        all_day=True,
        start="2023-09-14",
        end="2023-09-15",
        alarms=(),
    ),
    ParsedEvent(
        uid="cancelled-2023@u4ssc.test",
        summary="U4SSC editorial call (cancelled)",
        status="CANCELLED",
        sequence=2,
        all_day=False,
        start="2023-10-30T13:00:00Z",  # 14:00 CET, the day after the switch
        end="2023-10-30T14:30:00Z",
        alarms=(),
    ),
    ParsedEvent(
        uid="winter-2023@u4ssc.test",
        summary="U4SSC winter meeting",
        status="CONFIRMED",
        sequence=1,
        all_day=False,
        start="2023-12-21T09:00:00Z",  # 10:00 CET
        end="2023-12-21T10:00:00Z",
        alarms=(),
    ),
    ParsedEvent(
        uid="alarm-2024@u4ssc.test",
        summary="U4SSC plenary",
        status="TENTATIVE",
        sequence=0,
        all_day=False,
        start="2024-04-01T07:30:00Z",  # 09:30 CEST, the day after the switch
        end="2024-04-01T08:30:00Z",
        alarms=("-PT15M",),
    ),
]

Parser = Callable[[bytes], list[ParsedEvent]]


@pytest.fixture(scope="module")
def sample() -> bytes:
    return SAMPLE.read_bytes()


def _ics(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_sample_is_crlf_without_bom(sample: bytes) -> None:
    assert not sample.startswith(b"\xef\xbb\xbf")
    assert sample.endswith(b"END:VCALENDAR\r\n")
    assert sample.count(b"\n") == sample.count(b"\r\n")


@pytest.mark.parametrize("name", list(PARSERS))
def test_each_parser_sees_expected_events(name: str, sample: bytes) -> None:
    assert PARSERS[name](sample) == EXPECTED


def test_all_parsers_agree(sample: bytes) -> None:
    results = parse_all(sample)
    assert list(results) == ["icalendar", "ical", "vobject", "icaljs"]
    for name, events in results.items():
        assert events == results["icalendar"], name


def test_sample_vtimezone_matches_tzdata(sample: bytes) -> None:
    assert parse_system_tzdata(sample) == EXPECTED


@pytest.mark.parametrize("name", list(PARSERS))
def test_parsers_use_the_documents_vtimezone(name: str, sample: bytes) -> None:
    # Make summer time +03:00 in the document only: every parser must follow
    # the file (Europe/Zurich is also a known IANA zone, so a parser that
    # silently used the system tz database would still say 14:00Z).
    tampered = sample.replace(b"TZOFFSETTO:+0200", b"TZOFFSETTO:+0300").replace(
        b"TZOFFSETFROM:+0200", b"TZOFFSETFROM:+0300"
    )
    assert tampered.count(b"+0300") == 2
    events = {event.uid: event for event in PARSERS[name](tampered)}
    assert events["summer-2023@u4ssc.test"].start == "2023-07-27T13:00:00Z"
    assert events["alarm-2024@u4ssc.test"].start == "2024-04-01T06:30:00Z"
    assert events["winter-2023@u4ssc.test"].start == "2023-12-21T09:00:00Z"
    # ... while the tzdata reference does not, which is how it catches a wrong
    # VTIMEZONE that all four parsers would happily agree on.
    reference = {event.uid: event for event in parse_system_tzdata(tampered)}
    assert reference["summer-2023@u4ssc.test"].start == "2023-07-27T14:00:00Z"


@pytest.mark.parametrize("name", list(PARSERS))
def test_undefined_tzid_is_an_error(name: str, sample: bytes) -> None:
    # The events still say TZID=Europe/Zurich, but no VTIMEZONE defines it.
    broken = sample.replace(b"TZID:Europe/Zurich", b"TZID:Europe/Nowhere")
    with pytest.raises((UndefinedTzidError, IcalJsError), match="Europe/Zurich"):
        PARSERS[name](broken)


@pytest.mark.parametrize("name", list(PARSERS))
def test_duration_utc_and_trigger_forms(name: str, sample: bytes) -> None:
    vtimezone = sample[sample.index(b"BEGIN:VTIMEZONE") : sample.index(b"BEGIN:VEVENT")]
    data = _ics(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//U4SSC//parser forms test//EN",
        vtimezone.decode().rstrip("\r\n"),
        "BEGIN:VEVENT",
        "UID:duration@u4ssc.test",
        "DTSTAMP:20230601T080000Z",
        "DTSTART;TZID=Europe/Zurich:20231028T233000",
        "DURATION:PT1H30M",
        "SUMMARY:Across midnight",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:one week before",
        "TRIGGER:-P1W",
        "END:VALARM",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:absolute",
        "TRIGGER;VALUE=DATE-TIME:20231020T120000Z",
        "END:VALARM",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:mixed",
        "TRIGGER:-P1DT2H5M30S",
        "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:utc@u4ssc.test",
        "DTSTAMP:20230601T080000Z",
        "DTSTART:20231105T080000Z",
        "DTEND:20231105T090000Z",
        "SUMMARY:UTC event",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    assert PARSERS[name](data) == [
        ParsedEvent(
            uid="duration@u4ssc.test",
            summary="Across midnight",
            status=None,
            sequence=0,
            all_day=False,
            start="2023-10-28T21:30:00Z",  # 23:30 CEST
            end="2023-10-28T23:00:00Z",  # 01:00 CEST on the 29th
            alarms=("-P7D", "2023-10-20T12:00:00Z", "-P1DT2H5M30S"),
        ),
        ParsedEvent(
            uid="utc@u4ssc.test",
            summary="UTC event",
            status=None,
            sequence=0,
            all_day=False,
            start="2023-11-05T08:00:00Z",
            end="2023-11-05T09:00:00Z",
            alarms=(),
        ),
    ]
