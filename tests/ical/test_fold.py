"""Line folding, done by icalendar: every line of a rendered event is 75 octets at most, never
splits a UTF-8 character, and unfolds to the escaped text; the escaping is the project's."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ical.event import render_event
from app.ical.text import escape_text
from app.ical.wording import FeedContext, meeting_summary
from app.models import Group, Meeting
from app.readmodel.groups import GroupInfo

STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
GROUP = Group(
    id=1,
    slug="ai-in-cities",
    kind="thematic",
    name="AI in cities",
    status="active",
    created_at=STAMP,
    updated_at=STAMP,
)
INFO = GroupInfo(group=GROUP, parent=None, leaders=(), children=())
CTX = FeedContext(
    "https://calendar.example.org", "u4ssc.itu.int", "u4ssc@itu.int", dt.timedelta(hours=6)
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=400)


def _meeting(title: str | None, description: str | None) -> Meeting:
    return Meeting(
        id=1,
        uid="ai-in-cities-2024-03-05",
        group_id=1,
        title=title,
        status="confirmed",
        date=dt.date(2024, 3, 5),
        geneva_date=dt.date(2024, 3, 5),
        start_time=dt.time(15),
        end_time=dt.time(16),
        start_utc=dt.datetime(2024, 3, 5, 14, tzinfo=dt.UTC),
        end_utc=dt.datetime(2024, 3, 5, 15, tzinfo=dt.UTC),
        description=description,
        created_at=STAMP,
        updated_at=STAMP,
    )


@settings(max_examples=200, derandomize=True, deadline=None)
@given(title=TEXT, description=TEXT)
def test_every_line_is_75_octets_at_most_and_unfolds_to_the_escaped_text(
    title: str, description: str
) -> None:
    meeting = _meeting(title or None, description or None)
    data = render_event(meeting, INFO, CTX).encode("utf-8")
    lines = data.split(b"\r\n")
    assert lines[-1] == b""  # every line ends with CRLF
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # no character split between two lines
    logical = data.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    summary = "SUMMARY:" + escape_text(meeting_summary(meeting, INFO))
    assert summary in logical
    description_line = next(line for line in logical if line.startswith("DESCRIPTION:"))
    if description:
        assert escape_text(description) in description_line


def test_escaping_keeps_every_special_character_and_every_newline() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
