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
