"""The feed service: a burst of polls after a write renders each feed once."""

from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.deps import feed_context
from app.feed_selection import FeedSelection
from app.publishing import FeedService
from tests.conftest import AUTH


def test_concurrent_misses_render_once(client: TestClient, app: FastAPI) -> None:
    response = client.patch(
        "/api/meetings/ai-in-cities-wg2-2023-09-28", json={"title": "Moved"}, headers=AUTH
    )
    assert response.status_code == 200
    service = FeedService()
    settings = app.state.settings
    ctx = feed_context(settings, "https://calendar.example.org")
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def poll() -> None:
        with Session(app.state.engine) as session:
            barrier.wait()
            rendered = service.feed(session, FeedSelection(), ctx, 90)
            results.append(rendered.body)

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert b"Moved" in results[0]
    assert service.renders == 1
    assert service.hits == 7


def _render(service: FeedService, app: FastAPI, selection: FeedSelection) -> bytes:
    ctx = feed_context(app.state.settings, "https://calendar.example.org")
    with Session(app.state.engine) as session:
        return service.feed(session, selection, ctx, 90).body


def test_a_re_render_reuses_unchanged_events_and_equals_a_render_from_nothing(
    client: TestClient, app: FastAPI
) -> None:
    # A re-render starts from the feed's last render (rows compared, texts kept): whatever
    # the write did (a new title, a new date that moves the meeting in feed order, a
    # cancellation, a new meeting), the bytes must be those a new service renders from nothing.
    service = FeedService()
    feeds = [FeedSelection(), FeedSelection(("ai-in-cities",)), FeedSelection(hide_cancelled=True)]
    for selection in feeds:
        _render(service, app, selection)
    uid = "ai-in-cities-wg2-2023-09-28"
    writes = [
        ("patch", f"/api/meetings/{uid}", {"title": "Renamed"}),
        ("patch", f"/api/meetings/{uid}", {"date": "2023-07-02"}),
        ("patch", f"/api/meetings/{uid}", {"status": "cancelled"}),
        ("post", "/api/meetings", {"group": "ai-in-cities-wg2", "date": "2023-08-08"}),
    ]
    for method, path, body in writes:
        answer = getattr(client, method)(path, json=body, headers=AUTH)
        assert answer.status_code in (200, 201), answer.text
        rendered_before = service.events.misses
        for selection in feeds:
            assert _render(service, app, selection) == _render(FeedService(), app, selection)
        # The one meeting written is rendered again (once per context it shows in), no other.
        assert service.events.misses - rendered_before <= 1
