"""A meeting's zone is published in its IANA spelling, however it was written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH


@pytest.mark.parametrize("spelling", ["europe/zurich", "EUROPE/ZURICH", "Europe/zurich"])
def test_lower_case_timezone_is_published_as_the_iana_spelling(
    client: TestClient, spelling: str
) -> None:
    body = {
        "group": "ai-in-cities",
        "date": "2031-06-03",
        "start_time": "10:00",
        "end_time": "11:00",
        "timezone": spelling,
    }
    created = client.post("/api/meetings", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "Europe/Zurich"
    feed = client.get(f"/meetings/{created.json()['uid']}.ics").text
    assert "TZID=Europe/Zurich:" in feed
    assert spelling == "Europe/Zurich" or f"TZID={spelling}" not in feed
