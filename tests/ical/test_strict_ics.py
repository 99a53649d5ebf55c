"""The suite's own strict feed checks (tests/utils/strict_ics.py) accept a good feed and name
what is wrong with a bad one."""

from __future__ import annotations

import pytest

from tests.utils.strict_ics import assert_strictly_valid, ics_starts, libical_starts

GOOD = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:timed@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    b"DTSTART:20240615T140000Z\r\nDTEND:20240615T150000Z\r\nSUMMARY:Timed\r\nEND:VEVENT\r\n"
    b"BEGIN:VEVENT\r\nUID:day@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    b"DTSTART;VALUE=DATE:20240616\r\nDTEND;VALUE=DATE:20240617\r\nSUMMARY:Day\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)
STARTS = {"timed@example.org": "2024-06-15T14:00:00Z", "day@example.org": "2024-06-16"}


def test_a_good_feed_passes_and_both_parsers_read_it() -> None:
    assert_strictly_valid([GOOD])
    assert libical_starts([GOOD]) == [STARTS]
    assert ics_starts(GOOD) == STARTS


def test_libical_names_a_value_it_cannot_parse() -> None:
    bad = GOOD.replace(b"DTEND:20240615T150000Z", b"DTEND:20240615T15")
    with pytest.raises(AssertionError, match="Can't parse as DATE-TIME"):
        libical_starts([GOOD, bad])


def test_a_uid_held_twice_fails() -> None:
    twice = GOOD.replace(b"UID:day@example.org", b"UID:timed@example.org")
    with pytest.raises(AssertionError, match="appears twice"):
        assert_strictly_valid([twice])
