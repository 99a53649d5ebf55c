"""Builders for feed tests: meetings through the API, every feed path, four-parser agreement."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import AUTH
from tests.ical_parsers import ParsedEvent, parse_all, parse_system_tzdata

UID_DOMAIN = "u4ssc.itu.int"
# A content line starts with a name and ';' or ':', or continues a folded one with a space.
CONTENT_LINE = re.compile(r"^(?:[A-Z][A-Z0-9-]*[;:]| )")


def create_meeting(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/meetings", json=fields, headers=AUTH)
    assert response.status_code == 201, response.text
    meeting: dict[str, Any] = response.json()
    return meeting


def all_meetings(client: httpx.Client | TestClient, *groups: str) -> list[dict[str, Any]]:
    params: list[tuple[str, str | int | float | bool | None]] = [("limit", 1000)]
    params += [("group", group) for group in groups]
    body = client.get("/api/meetings", params=params).json()
    assert body["count"] == len(body["data"])
    meetings: list[dict[str, Any]] = body["data"]
    return meetings


def group_slugs(client: TestClient) -> list[str]:
    body = client.get("/api/groups", params={"limit": 1000}).json()
    return [group["slug"] for group in body["data"]]


def feed_paths(client: TestClient) -> list[str]:
    """Every feed: global, each group, a combined one, each single meeting."""
    slugs = group_slugs(client)
    paths = ["/calendar.ics", f"/calendar.ics?group={slugs[0]}&group={slugs[-1]}"]
    paths += [f"/groups/{slug}/calendar.ics" for slug in slugs]
    paths += [f"/meetings/{meeting['uid']}.ics" for meeting in all_meetings(client)]
    return paths


def agreed_events(data: bytes) -> list[ParsedEvent]:
    """The events all four parsers see, after checking they see the same; and tzdata too."""
    results = parse_all(data)
    first = results["icalendar"]
    for name, events in results.items():
        assert events == first, f"{name} disagrees with icalendar"
    assert parse_system_tzdata(data) == first, "the VTIMEZONE disagrees with tzdata"
    return first


def utc_text(iso: str) -> str:
    """An ISO 8601 instant from the JSON as the parsers normalise it: YYYY-MM-DDTHH:MM:SSZ."""
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_times(meeting: dict[str, Any]) -> tuple[str, str]:
    """(start, end) of a meeting's event as the parsers normalise them, from its JSON."""
    if meeting["all_day"]:
        day = dt.date.fromisoformat(meeting["date"])
        return day.isoformat(), (day + dt.timedelta(days=1)).isoformat()
    return utc_text(meeting["start_utc"]), utc_text(meeting["end_utc"])


def assert_lines_well_formed(data: bytes) -> None:
    """CRLF only, no BOM, every line at most 75 octets and a property or a continuation."""
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"END:VCALENDAR\r\n")
    lines = data.split(b"\r\n")[:-1]
    for line in lines:
        assert b"\r" not in line and b"\n" not in line, line
        assert len(line) <= 75, line
        assert CONTENT_LINE.match(line.decode("utf-8")), line
