"""The smaller faults of issue 11, each reproduced by the test named after it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.feeds.event_cache import EventCache
from app.feeds.last_render import LastRenders
from app.ical.wording import FeedContext
from app.models import Meeting
from app.readmodel.groups import group_index
from tests.conftest import AUTH, BASE_URL


def test_event_cache_filled_by_many_threads_at_once_stays_within_its_bound(
    engine: Engine,
) -> None:
    # Worker threads render feeds of different contexts side by side: the cache's count of
    # bytes must stay exact and within its bound, whoever evicts whom.
    with Session(engine) as session:
        meetings = list(session.exec(select(Meeting).limit(6)).all())
        index = group_index(session)
        for meeting in meetings:
            session.expunge(meeting)
    rendered = []
    renderer = EventCache()
    base = FeedContext(BASE_URL, "u4ssc.itu.int", "u4ssc@itu.int", dt.timedelta(hours=6))
    for meeting in meetings:
        assert meeting.id is not None
        stamp, text = renderer.render(meeting, index[meeting.group_id], base, None)
        rendered.append((meeting.id, stamp, text))
    one_context = sum(len(text) for _, _, text in rendered)
    cache = EventCache(max_bytes=3 * one_context)
    errors: list[BaseException] = []

    def fill(alarm: int) -> None:
        try:
            for _ in range(50):
                cache.put(base, alarm, rendered)
                held = cache.texts(base, alarm)
                assert all(text.startswith(b"BEGIN:VEVENT") for _, text in held.values())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(alarm,)) for alarm in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    held = [cache.texts(base, alarm) for alarm in range(8)]
    assert cache.size <= 3 * one_context
    assert cache.size == sum(len(t) for texts in held for _, t in texts.values())
    assert any(len(texts) == len(meetings) for texts in held)
    assert renderer.misses == len(meetings) and cache.misses == 0  # only rendering counts


def test_gzip_and_identity_answers_carry_different_strong_etags(client: TestClient) -> None:
    plain = client.get("/calendar.ics", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert not plain.headers["etag"].startswith("W/")
    assert zipped.headers["etag"] != plain.headers["etag"]
    # Revalidation works with either tag, and names the tag of the coding asked for.
    again = client.get(
        "/calendar.ics",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]


def test_a_500_answer_carries_nosniff(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/test-boom")
    assert answer.status_code == 500
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "a bug" not in answer.text


def test_fast_path_latency_includes_the_revision_check_and_render(
    app: FastAPI, client: TestClient
) -> None:
    assert client.get("/calendar.ics").status_code == 200  # the routes validate and cache it
    # A new revision: the next poll re-renders on the fast path.
    uid = "ai-in-cities-wg2-2023-07-27"
    written = client.patch(f"/api/meetings/{uid}", json={"title": "Renamed"}, headers=AUTH)
    assert written.status_code == 200, written.text
    service = app.state.feeds
    real_refresh = service.refresh
    recorded: list[tuple[str, float]] = []
    metrics = app.state.metrics
    real_record = metrics.record

    def slow_refresh(*args: Any) -> Any:
        time.sleep(0.3)  # a render that takes a while
        return real_refresh(*args)

    def record(scope: Any, route: str, status: int, elapsed: float) -> None:
        recorded.append((route, elapsed))
        real_record(scope, route, status, elapsed)

    service.refresh = slow_refresh
    metrics.record = record
    try:
        assert client.get("/calendar.ics").status_code == 200
    finally:
        service.refresh = real_refresh
        metrics.record = real_record
    assert recorded and recorded[-1][0] == "/calendar.ics"
    assert recorded[-1][1] >= 0.3, recorded


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


def test_a_sweep_of_alarm_values_keeps_the_caches_within_their_bounds(
    app: FastAPI, client: TestClient
) -> None:
    # Each alarm value is a feed of its own and renders every event anew: the sequence of
    # requests an attacker would pick once Host can no longer multiply feeds.
    service = app.state.feeds
    service.events = EventCache(max_bytes=100_000)
    service.max_bytes = 300_000
    service.last = LastRenders(max_rows=50)  # the last render kept per feed, for re-renders
    for alarm in range(0, 1441, 5):
        assert client.get(f"/calendar.ics?alarm={alarm}").status_code == 200
    assert service.events.size <= 100_000
    assert service.last.rows <= 50 or len(service.last) == 1
    assert service.last.rows == service.last.held_rows()
    assert service._bytes <= 300_000 or len(service._feeds) == 1
