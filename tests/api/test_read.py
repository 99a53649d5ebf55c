"""The read API: filters, sorting, paging, links, 404 and 422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BASE_URL
from tests.utils.errors import assert_error, assert_field_error


def _uids(client: TestClient, query: str) -> list[str]:
    body = client.get(f"/api/meetings?{query}").json()
    return [m["uid"] for m in body["data"]]


def test_meetings_are_sorted_by_start(client: TestClient) -> None:
    data = client.get("/api/meetings").json()["data"]
    keys = [(m["date"], m["start_utc"] or "") for m in data]
    assert keys == sorted(keys)


def test_thematic_group_covers_its_working_groups(client: TestClient) -> None:
    uids = _uids(client, "group=people-centred-cities")
    assert len(uids) == 5
    assert all(u.startswith("people-centred-cities-wg") for u in uids)
    both = _uids(client, "group=ai-in-cities-wg2&group=digital-wellbeing")
    assert sorted(both) == [
        "ai-in-cities-wg2-2023-07-27",
        "ai-in-cities-wg2-2023-09-28",
        "digital-wellbeing-2023-09-21",
    ]


def test_dates_are_inclusive_geneva_dates(client: TestClient) -> None:
    uids = _uids(client, "start=2023-07-27&end=2023-07-27")
    assert sorted(uids) == [
        "ai-in-cities-wg2-2023-07-27",
        "people-centred-cities-wg1-2023-07-27",
        "people-centred-cities-wg2-2023-07-27",
    ]
    assert _uids(client, "start=2023-12-01") == ["procurement-wg2-2023-12-21"]


def test_limit_offset_and_count(client: TestClient) -> None:
    everything = _uids(client, "limit=1000")
    page = client.get("/api/meetings?limit=5&offset=5").json()
    assert page["count"] == len(everything) == 18
    assert [m["uid"] for m in page["data"]] == everything[5:10]
    groups = client.get("/api/groups?kind=working&limit=3").json()
    assert groups["count"] == 16
    assert len(groups["data"]) == 3


def test_status_filters(client: TestClient) -> None:
    completed = client.get("/api/groups?status=completed").json()["data"]
    assert {g["slug"] for g in completed} == {
        "city-platforms-wg1",
        "city-platforms-wg2",
        "city-platforms-wg3",
        "city-platforms-wg4",
        "procurement-wg1",
    }
    assert client.get("/api/meetings?status=cancelled").json() == {"data": [], "count": 0}


def test_links_are_absolute(client: TestClient) -> None:
    group = client.get("/api/groups/ai-in-cities-wg2").json()
    assert group["feed_url"] == f"{BASE_URL}/groups/ai-in-cities-wg2/calendar.ics"
    assert (
        group["webcal_url"] == "webcal://calendar.example.org/groups/ai-in-cities-wg2/calendar.ics"
    )
    meeting = client.get("/api/meetings/ai-in-cities-wg2-2023-07-27").json()
    assert meeting["feed_url"] == f"{BASE_URL}/meetings/ai-in-cities-wg2-2023-07-27.ics"
    assert meeting["webcal_url"].startswith("webcal://calendar.example.org/")
    assert meeting["title"] == "AI in cities WG2 Autonomous Cities: e-meeting"
    assert client.get(meeting["feed_url"].removeprefix(BASE_URL)).status_code == 200


def test_all_day_meetings_have_no_times(client: TestClient) -> None:
    meeting: dict[str, Any] = client.get("/api/meetings/procurement-wg2-2023-07-20").json()
    assert meeting["all_day"] is True
    for key in ("start_time", "end_time", "start", "end", "start_utc", "end_utc"):
        assert meeting[key] is None


def test_unknown_slug_and_uid_are_404(client: TestClient) -> None:
    assert_error(client.get("/api/groups/no-such-group"), 404, "no-such-group")
    assert_error(client.get("/api/meetings/no-such-meeting"), 404, "no-such-meeting")
    assert_error(client.get("/groups/no-such-group/calendar.ics"), 404, "no-such-group")
    assert_error(client.get("/meetings/no-such-meeting.ics"), 404, "no-such-meeting")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2023-02-30", "start"),
        ("start=0", "start"),
        ("end=1700000000", "end"),
        ("end=yesterday", "end"),
        ("start=2023-08-01&end=2023-07-01", "end"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("status=postponed", "status"),
        ("group=no-such-group", "group"),
    ],
)
def test_malformed_meeting_parameters_are_422(client: TestClient, query: str, field: str) -> None:
    assert_field_error(client.get(f"/api/meetings?{query}"), field, field)


@pytest.mark.parametrize("query", ["kind=department", "status=finished", "limit=5000"])
def test_malformed_group_parameters_are_422(client: TestClient, query: str) -> None:
    assert_error(client.get(f"/api/groups?{query}"), 422, query.split("=")[0])
