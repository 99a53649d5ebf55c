"""The front (app.edge.front): cached polls answered around the whole stack, without an admission
slot; a re-render after a write still admitted; today's cutoff; the metrics still counted."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.core.config import Settings
from app.edge.admission import Admission
from app.edge.fastpath import DAY, DailyCutoff, FeedFastPath
from app.edge.front import PollFront
from app.feeds.selection import cutoff_date
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.eventually import revision_known
from tests.utils.stack import layer


def _samples(client: TestClient, name: str) -> dict[str, float]:
    found = {}
    for line in client.get("/metrics").text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def test_the_cutoff_moves_on_at_midnight_utc() -> None:
    midnight = dt.datetime(2026, 3, 29, tzinfo=dt.UTC).timestamp()
    now = [midnight - 0.001]
    cutoff = DailyCutoff(90, clock=lambda: now[0])
    assert cutoff() == cutoff_date(90, dt.date(2026, 3, 28)) == dt.date(2025, 12, 28)
    now[0] = midnight
    assert cutoff() == cutoff_date(90, dt.date(2026, 3, 29))
    now[0] = midnight + DAY - 0.001
    assert cutoff() == cutoff_date(90, dt.date(2026, 3, 29))
    now[0] = midnight + DAY
    assert cutoff() == cutoff_date(90, dt.date(2026, 3, 30))
    # A clock set back across midnight gives the earlier day's again.
    now[0] = midnight - 3600
    assert cutoff() == cutoff_date(90, dt.date(2026, 3, 28))
    assert DailyCutoff(0, clock=lambda: midnight)() == dt.date(2026, 3, 29)


def test_the_cutoff_is_the_routes_today() -> None:
    assert DailyCutoff(90)() == cutoff_date(90)


def test_after_midnight_the_front_does_not_answer_with_yesterdays_feed(
    client: TestClient, app: FastAPI
) -> None:
    client.get("/calendar.ics")
    front: PollFront = layer(app, PollFront)
    revision_known(app)
    lean: FeedFastPath = layer(app, FeedFastPath)
    served = front.served
    assert client.get("/calendar.ics").status_code == 200
    assert front.served == served + 1
    real_clock = front.feeds.cutoff.clock
    front.feeds.cutoff.clock = lambda: real_clock() + DAY
    try:
        served, inner = front.served, lean.served
        # Tomorrow's cutoff names a feed not rendered yet: the stack answers (here the inner
        # layer, whose cutoff is the real today's).
        assert client.get("/calendar.ics").status_code == 200
        assert (front.served, lean.served) == (served, inner + 1)
    finally:
        front.feeds.cutoff.clock = real_clock
    assert client.get("/calendar.ics").status_code == 200
    assert front.served == served + 1


def test_the_front_answers_no_host_the_guard_refuses(client: TestClient, app: FastAPI) -> None:
    client.get("/calendar.ics")
    client.get("/api/meetings")
    front: PollFront = layer(app, PollFront)
    revision_known(app)
    served = front.served
    for path in ("/calendar.ics", "/api/meetings"):
        refused = client.get(path, headers={"Host": "evil.example"})
        assert refused.status_code == 400, path
        assert "ALLOWED_HOSTS" in refused.json()["detail"]
    assert front.served == served
    # An allowed name on a port the server does not listen on (TestClient's is 80): refused.
    assert client.get("/calendar.ics", headers={"Host": "localhost:8000"}).status_code == 400
    assert client.get("/calendar.ics", headers={"Host": "localhost"}).status_code == 200
    assert front.served == served + 1


def test_the_metrics_count_the_fronts_answers(client: TestClient, app: FastAPI) -> None:
    etag = client.get("/calendar.ics").headers["etag"]
    tag = client.get("/api/meetings").headers["etag"]
    requests = "u4ssc_http_requests_total"
    before = _samples(client, requests)
    hits = _samples(client, "u4ssc_feed_cache_hits_total")[""]
    front: PollFront = layer(app, PollFront)
    revision_known(app)
    served = front.served
    for _ in range(3):
        assert client.get("/calendar.ics").status_code == 200
        assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
        assert client.head("/calendar.ics").status_code == 200
        assert client.get("/api/meetings", headers={"If-None-Match": tag}).status_code == 304
    assert front.served == served + 12
    after = _samples(client, requests)
    for labels in (
        'method="GET",route="/calendar.ics",status="200"',
        'method="GET",route="/calendar.ics",status="304"',
        'method="HEAD",route="/calendar.ics",status="200"',
        'method="GET",route="/api/meetings",status="304"',
    ):
        key = "{" + labels + "}"
        assert after[key] == before.get(key, 0) + 3, labels
    # Nine feed answers from the cache: the service's hits and the front's memo's together.
    assert _samples(client, "u4ssc_feed_cache_hits_total")[""] == hits + 9
    durations = _samples(client, "u4ssc_http_request_duration_seconds_count")
    assert durations['{method="GET",route="/calendar.ics"}'] >= 7


def test_a_rerender_after_a_write_is_admitted(client: TestClient, app: FastAPI) -> None:
    client.get("/calendar.ics")  # the routes validate it
    uid = client.get("/api/meetings").json()["data"][0]["uid"]
    written = client.patch(f"/api/meetings/{uid}", json={"title": "Admitted"}, headers=AUTH)
    assert written.status_code == 200, written.text
    admission: Admission = layer(app, Admission)
    service = app.state.feeds
    real_refresh = service.refresh
    inside: list[int] = []

    def refresh(*args: Any) -> Any:
        inside.append(admission.inside)
        return real_refresh(*args)

    service.refresh = refresh
    try:
        renders = service.renders
        assert b"Admitted" in client.get("/calendar.ics").content
    finally:
        service.refresh = real_refresh
    assert service.renders == renders + 1
    assert inside == [1]  # the render ran holding this request's admission slot
    assert admission.inside == 0


class _Blocking(Collector):
    """A collector that holds /metrics (and so its admission slot) until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def collect(self) -> Iterator[Metric]:
        self.entered.set()
        self.release.wait(timeout=30)
        yield GaugeMetricFamily("u4ssc_test_blocking", "Holds a scrape.", value=1)


@pytest.fixture
def one_slot(database_url: str) -> Iterator[tuple[FastAPI, TestClient]]:
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        public_base_url=BASE_URL,
        db_pool_size=1,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


def test_a_cached_poll_needs_no_admission_slot(one_slot: tuple[FastAPI, TestClient]) -> None:
    app, client = one_slot
    etag = client.get("/calendar.ics").headers["etag"]
    client.get("/api/groups")
    blocking = _Blocking()
    app.state.metrics.registry.register(blocking)
    held = threading.Thread(target=client.get, args=("/metrics",))
    held.start()
    try:
        assert blocking.entered.wait(timeout=30)
        admission: Admission = layer(app, Admission)
        assert admission.inside == 1  # the only slot is taken
        assert client.get("/calendar.ics").status_code == 200
        assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/api/groups").status_code == 200
        assert admission.inside == 1  # still held: those answers never needed it
    finally:
        blocking.release.set()
        held.join(timeout=30)
    app.state.metrics.registry.unregister(blocking)
