"""Properties: every Geneva wall-clock time is refused or kept at the right instant through JSON
and the feed; any text survives JSON and the feed unchanged and never breaks a feed line.

icalendar is checked up to 2037 only: tests/ical_parsers.py refuses later times because the
pytz VTIMEZONE expansion it uses stops at 2038. Later years are checked with ical and vobject.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from zoneinfo import ZoneInfo

import icalendar
import vobject
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.conftest import AUTH
from tests.ical_parsers import ParsedEvent, parse_ical, parse_icalendar, parse_vobject
from tests.utils.errors import assert_error

GENEVA = ZoneInfo("Europe/Zurich")
PROPERTY_SETTINGS = settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What the API refuses in text: controls, surrogates, private use, unassigned, line and
# paragraph separators (a description may hold newlines and tabs).
REFUSED = ("Cc", "Cs", "Co", "Cn", "Zl", "Zp")
# Every raw feed line starts a property (NAME, then ';' or ':') or continues one (one space).
FEED_LINE = re.compile(r"^(?:[A-Z][A-Z0-9-]*[;:]| )")


def _group(client: TestClient) -> str:
    slug: str = client.get("/api/groups").json()["data"][0]["slug"]
    return slug


def _geneva_verdict(wall: dt.datetime) -> str:
    """'gap', 'fold' or 'ok' for a naive Geneva wall-clock time, by zoneinfo."""
    first = wall.replace(tzinfo=GENEVA, fold=0)
    second = wall.replace(tzinfo=GENEVA, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "ok"
    back = first.astimezone(dt.UTC).astimezone(GENEVA).replace(tzinfo=None)
    return "gap" if back != wall else "fold"


def _utc_string(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() - 6) % 7)


# Uniform minutes almost never hit the two hours a year where the clocks change, so half the
# examples are drawn around those hours on the changeover Sundays.
any_minute = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31, 23, 58)
).map(lambda value: value.replace(second=0, microsecond=0))
near_a_change = st.builds(
    lambda year, month, minutes: (
        dt.datetime.combine(_last_sunday(year, month), dt.time(0, 0))
        + dt.timedelta(minutes=minutes)
    ),
    st.integers(1990, 2040),
    st.sampled_from([3, 10]),
    st.integers(60, 4 * 60),
)
wall_clocks = st.one_of(any_minute, near_a_change)


def _parsers(year: int) -> list[Callable[[bytes], list[ParsedEvent]]]:
    """Two independent parsers that can read a feed of `year`.

    icalendar (as tests/ical_parsers.py drives it) refuses times after 2037; ical 14 cannot
    expand a VTIMEZONE rule with an UNTIL (dateutil: "RRULE UNTIL values must be specified in
    UTC when DTSTART is timezone-aware", though the UNTIL is in UTC), and a feed with times
    before 1996 carries the bounded 1981-1995 rule of Europe/Zurich.
    """
    if year > 2037:
        return [parse_ical, parse_vobject]
    if year < 1996:
        return [parse_icalendar, parse_vobject]
    return [parse_icalendar, parse_ical]


@PROPERTY_SETTINGS
@given(start=wall_clocks, length=st.integers(1, 180))
@example(start=dt.datetime(2024, 3, 31, 2, 30), length=10)  # skipped: spring forward
@example(start=dt.datetime(2024, 10, 27, 2, 30), length=10)  # twice: fall back
@example(start=dt.datetime(1995, 9, 24, 1, 0), length=150)  # the last September change
@example(start=dt.datetime(2039, 3, 27, 1, 30), length=90)  # past pytz's tables
def test_every_geneva_time_is_refused_or_kept_at_its_instant(
    client: TestClient, start: dt.datetime, length: int
) -> None:
    end = start + dt.timedelta(minutes=length)
    assume(end.date() == start.date())
    body = {
        "group": _group(client),
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
    }
    response = client.post("/api/meetings", json=body, headers=AUTH)
    verdicts = {"start_time": _geneva_verdict(start), "end_time": _geneva_verdict(end)}
    refused = {name: v for name, v in verdicts.items() if v != "ok"}
    if refused:
        name, verdict = next(iter(refused.items()))
        words = "does not exist" if verdict == "gap" else "happens twice"
        assert_error(response, 422, name, words)
        return
    assert response.status_code == 201, response.text
    meeting = response.json()
    start_utc = _utc_string(start.replace(tzinfo=GENEVA))
    end_utc = _utc_string(end.replace(tzinfo=GENEVA))
    assert (meeting["start_utc"], meeting["end_utc"]) == (start_utc, end_utc)
    assert dt.datetime.fromisoformat(meeting["start"]) == start.replace(tzinfo=GENEVA)
    assert meeting["start"].startswith(start.strftime("%Y-%m-%dT%H:%M"))

    feed = client.get(f"/meetings/{meeting['uid']}.ics")
    assert feed.status_code == 200
    for parse in _parsers(start.year):
        events: list[ParsedEvent] = parse(feed.content)
        assert [(e.start, e.end) for e in events] == [(start_utc, end_utc)], parse.__name__


def _allowed(char: str) -> bool:
    return unicodedata.category(char) not in REFUSED


# Any language, combining marks, emoji; plus what iCalendar escapes or folds.
awkward = st.sampled_from(["\\N", "\\n", "\\", ",", ";", ":", '"', "\u0301", "\U0001f600", "é"])
any_char = st.characters(codec="utf-8").filter(_allowed)
titles = (
    st.lists(st.one_of(any_char, awkward), min_size=1, max_size=60)
    .map("".join)
    .filter(lambda text: text == text.strip() and 0 < len(text) <= 200)
)
descriptions = (
    st.lists(st.one_of(any_char, awkward, st.sampled_from(["\n", "\t"])), max_size=120)
    .map("".join)
    .filter(lambda text: text == text.strip() and len(text) <= 10_000)
)


def _feed_lines_are_whole(feed: bytes) -> None:
    text = feed.decode("utf-8")
    assert text.endswith("\r\n")
    for line in text[:-2].split("\r\n"):
        assert "\r" not in line and "\n" not in line, repr(line)
        assert FEED_LINE.match(line), repr(line)
        assert len(line.encode("utf-8")) <= 75, repr(line)


def _feed_texts(feed: bytes) -> list[tuple[str, str]]:
    """(SUMMARY, DESCRIPTION) of every event, as icalendar and vobject unescape them."""
    by_icalendar = [
        (str(event["SUMMARY"]), str(event["DESCRIPTION"]))
        for event in icalendar.Calendar.from_ical(feed).walk("VEVENT")
    ]
    by_vobject = [
        (event.summary.value, event.description.value)
        for event in vobject.readOne(feed.decode("utf-8")).vevent_list
    ]
    assert by_icalendar == by_vobject
    return by_icalendar


@PROPERTY_SETTINGS
@given(title=titles, description=descriptions)
@example(title="a\\N, b; c: \\ d", description="one\\ntwo\n\nthree,; \\N \u0301\U0001f600")
@example(title="x" * 200, description="\u00e9" * 10_000)
def test_any_text_survives_json_and_the_feed(
    client: TestClient, title: str, description: str
) -> None:
    body = {"group": _group(client), "date": "2024-05-14", "title": title}
    if description:
        body["description"] = description
    created = client.post("/api/meetings", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    for meeting in (created.json(), client.get(f"/api/meetings/{uid}").json()):
        assert meeting["title"] == title
        assert meeting["description"] == (description or None)

    feed = client.get(f"/meetings/{uid}.ics").content
    _feed_lines_are_whole(feed)
    [(summary, text)] = _feed_texts(feed)
    # The feed names the group before the title, and frames the description with the time
    # and the link; the user's text sits between those, unchanged.
    assert summary.endswith(": " + title), (summary, title)
    if description:
        assert f"\n\n{description}\n\n" in text, (text, description)


refused_chars = st.characters(categories=["Cc", "Cs", "Co"]).filter(lambda c: c not in "\t\n\r")


@PROPERTY_SETTINGS
@given(before=titles, bad=refused_chars, after=titles, field=st.sampled_from(["title", "desc"]))
def test_text_with_controls_or_surrogates_is_refused_with_422(
    client: TestClient, before: str, bad: str, after: str, field: str
) -> None:
    text = before + bad + after
    name = "title" if field == "title" else "description"
    body = {"group": _group(client), "date": "2024-05-14", name: text}
    # json.dumps writes a lone surrogate as its \\u escape, as a careless client would.
    response = client.post(
        "/api/meetings",
        content=json.dumps(body).encode(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    detail = assert_error(response, 422, name)
    # The JSON parser itself refuses a lone surrogate; the model names any other character.
    if unicodedata.category(bad) != "Cs":
        assert f"U+{ord(bad):04X}" in json.dumps(detail), detail
