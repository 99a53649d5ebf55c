"""The request metrics (app.edge.request_metrics) export exactly what prometheus_client's Counter
and
Histogram export for the same answers: names, labels, buckets, values and order."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from app.edge import request_metrics
from app.edge.observability import LATENCY_BUCKETS
from app.edge.request_metrics import RequestStats

ANSWERS = [
    ("GET", "/calendar.ics", 200, 0.0004),
    ("GET", "/calendar.ics", 304, 0.001),  # on a bound: counted in that bucket
    ("GET", "/calendar.ics", 304, 0.0011),
    ("HEAD", "/calendar.ics", 200, 0.03),
    ("GET", "/api/meetings", 200, 0.2),
    ("GET", "unmatched", 404, 12.0),  # above the last bound: +Inf only
    ("GET", "/calendar.ics", 200, 0.0),
    ("POST", "/api/meetings", 503, 7.5),
]


def _reference(answers: list[tuple[str, str, int, float]]) -> bytes:
    """What the client library's own metrics, as the service used before, export."""
    registry = CollectorRegistry()
    requests = Counter(
        request_metrics.REQUESTS,
        request_metrics.REQUESTS_HELP,
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        request_metrics.LATENCY,
        request_metrics.LATENCY_HELP,
        ["method", "route"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    for method, route, status, elapsed in answers:
        requests.labels(method, route, str(status)).inc()
        latency.labels(method, route).observe(elapsed)
    return generate_latest(registry)


def _ours(answers: list[tuple[str, str, int, float]]) -> bytes:
    registry = CollectorRegistry()
    stats = RequestStats(LATENCY_BUCKETS)
    registry.register(stats)
    for answer in answers:
        stats.observe(*answer)
    return generate_latest(registry)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same _created stamps on both sides (both read time.time)."""
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)


@pytest.mark.usefixtures("frozen_clock")
def test_the_exposition_equals_the_client_librarys() -> None:
    assert _ours(ANSWERS) == _reference(ANSWERS)
    assert _ours([]) == _reference([])


@pytest.mark.usefixtures("frozen_clock")
def test_without_created_series_as_the_client_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import prometheus_client.metrics

    monkeypatch.setattr(prometheus_client.metrics, "_use_created", False)
    text = _ours(ANSWERS)
    assert text == _reference(ANSWERS)
    assert b"_created" not in text


def test_answers_counted_from_several_threads_are_all_counted() -> None:
    stats = RequestStats(LATENCY_BUCKETS)

    def count() -> None:
        for n in range(5000):
            stats.observe("GET", "/calendar.ics", 304 if n % 2 else 200, 0.0001)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples: dict[str, Any] = {}
    for metric in stats.collect():
        for sample in metric.samples:
            samples[sample.name + str(sorted(sample.labels.items()))] = sample.value
    ok = "[('method', 'GET'), ('route', '/calendar.ics'), ('status', '200')]"
    assert samples["u4ssc_http_requests_total" + ok] == 10_000
    count_key = "u4ssc_http_request_duration_seconds_count"
    assert samples[count_key + "[('method', 'GET'), ('route', '/calendar.ics')]"] == 20_000
