"""Issue 24: nothing the secretariat does goes wrong without a word. Each test is named after
what it reproduces (the numbered points of the issue)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import AUTH

WRITES = {"post", "put", "patch", "delete"}


def test_5_swagger_can_authorize_every_write(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    writes = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in WRITES
    ]
    assert len(writes) >= 5
    unsecured = [(m, p) for m, p, op in writes if {"bearer": []} not in op.get("security", [])]
    assert not unsecured, unsecured
    # What Swagger's "Try it out" sends once authorised is what a write takes.
    uid = client.get("/api/meetings?limit=1").json()["data"][0]["uid"]
    answer = client.patch(f"/api/meetings/{uid}", json={"title": "From /docs"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    refused = client.patch(f"/api/meetings/{uid}", json={"title": "x"}, headers={})
    assert refused.status_code == 401
    assert "Authorization: Bearer" in refused.json()["detail"]


def test_11_the_join_link_is_where_google_and_outlook_look(client: TestClient) -> None:
    join = "https://meet.example.org/u4ssc?id=11"
    day = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"group": "ai-in-cities-wg2", "date": day, "start_time": "10:00", "end_time": "11:00"}
    with_link = client.post("/api/meetings", json={**body, "join_url": join}, headers=AUTH)
    without = client.post("/api/meetings", json=body, headers=AUTH)
    assert with_link.status_code == without.status_code == 201
    for made, location in ((with_link.json(), join), (without.json(), "Online")):
        feed = client.get(f"/meetings/{made['uid']}.ics")
        (event,) = Calendar.from_ical(feed.content).walk("VEVENT")
        assert str(event["LOCATION"]) == location
        assert ("CONFERENCE" in event) is (location == join)
        assert (join in str(event["DESCRIPTION"])) is (location == join)
