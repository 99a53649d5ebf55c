"""The latency a fast-path poll records includes its revision check and render."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import AUTH


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
