"""The smaller faults of issue 11, each reproduced by the test named after it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import crud
from app.event_cache import EventCache
from app.models import Meeting
from app.vevent import FeedContext
from tests.conftest import AUTH, BASE_URL


class _Interleaved(OrderedDict[tuple[object, ...], str]):
    """The cache's dict, with another thread let in right after a successful read: the
    interleaving that made a read's move_to_end meet a key another thread had evicted."""

    between: Callable[[], None] | None = None

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        between, self.between = self.between, None
        if value is not None and between is not None:
            between()
        return value


def test_event_cache_read_while_another_thread_evicts_raises_no_key_error(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        first, second, third = list(session.exec(select(Meeting).limit(3)).all())
        index = crud.group_index(session)
        for meeting in (first, second, third):
            session.expunge(meeting)
    ctx = FeedContext(BASE_URL, "u4ssc.itu.int", "u4ssc@itu.int", dt.timedelta(hours=6))
    cache = EventCache(max_entries=2)
    entries = _Interleaved()
    cache._entries = entries
    for meeting in (first, second):
        cache.get(meeting, index[meeting.group_id], ctx, None)  # full: `first` goes next

    def another_thread_fills_the_cache() -> None:
        # A third entry evicts `first`; with the lock it waits until the read is done.
        other = threading.Thread(
            target=cache.get, args=(third, index[third.group_id], ctx, None), daemon=True
        )
        other.start()
        other.join(timeout=0.5)

    entries.between = another_thread_fills_the_cache
    text = cache.peek(first, index[first.group_id], ctx, None)
    assert text is not None and "BEGIN:VEVENT" in text
    deadline = time.monotonic() + 5
    while len(entries) > 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(entries) == 2  # still bounded, whoever went first


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
    service.events = EventCache(max_chars=100_000)
    service.max_bytes = 300_000
    for alarm in range(0, 1441, 5):
        assert client.get(f"/calendar.ics?alarm={alarm}").status_code == 200
    assert service.events._chars <= 100_000
    assert sum(len(t) for t in service.events._entries.values()) == service.events._chars
    assert service._bytes <= 300_000 or len(service._feeds) == 1
