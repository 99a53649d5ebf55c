"""The event cache and the feed service's caches hold to their bounds, under threads and sweeps."""

from __future__ import annotations

import datetime as dt
import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.feeds.event_cache import EventCache
from app.feeds.last_render import LastRenders
from app.ical.wording import FeedContext
from app.models import Meeting
from app.readmodel.groups import group_index
from tests.conftest import BASE_URL


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


def test_six_languages_of_every_alarm_keep_the_caches_within_their_bounds(
    app: FastAPI, client: TestClient
) -> None:
    # Each language is a context of its own (its event texts, its feeds): six times the
    # entries, within the same bounds.
    service = app.state.feeds
    service.events = EventCache(max_bytes=150_000)
    service.max_bytes = 400_000
    service.max_feeds = 20
    service.last = LastRenders(max_rows=100)
    for alarm in range(0, 60, 5):
        for lang in ("ar", "en", "es", "fr", "ru", "zh"):
            answer = client.get(f"/calendar.ics?alarm={alarm}&lang={lang}")
            assert answer.status_code == 200
    assert service.events.size <= 150_000
    assert service.entries <= 20
    assert service.last.rows <= 100 or len(service.last) == 1
    assert service.last.rows == service.last.held_rows()
