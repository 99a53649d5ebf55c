"""Request counts and latencies kept as plain numbers, exported at scrape time as exactly the
families prometheus_client's Counter and Histogram would give (names, labels, buckets, order).

A Counter child and a Histogram child take three locks and a dozen calls per answer; a poll
answered from the cache takes a few microseconds in all, so the metrics were a large part of
it. Here an answer costs one dictionary look-up, one lock and three additions."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import cast

import prometheus_client.metrics as prometheus_metrics
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

_go_float = cast(Callable[[float], str], floatToGoString)  # the library's spelling of a bound

REQUESTS = "u4ssc_http_requests"
REQUESTS_HELP = "HTTP requests answered, by method, route template and status."
LATENCY = "u4ssc_http_request_duration_seconds"
LATENCY_HELP = "Time from request to the end of the answer, by method and route template."


class _Series:
    """One (method, route, status): its count; and its (method, route) histogram, shared."""

    __slots__ = ("count", "created", "histogram")

    def __init__(self, histogram: list[float]) -> None:
        self.count = 0
        self.created = time.time()
        self.histogram = histogram  # [sum, count per bucket..., count above the last bound]


class RequestStats(Collector):
    """`u4ssc_http_requests{method,route,status}` and
    `u4ssc_http_request_duration_seconds{method,route}`, with the given bucket bounds."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.bounds = tuple(float(b) for b in buckets)
        self._series: dict[tuple[str, str, int], _Series] = {}
        # (method, route) -> [sum, buckets...] and when it was first seen, in first-seen order.
        self._histograms: dict[tuple[str, str], tuple[list[float], float]] = {}
        self._lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        """Count one answer and its latency (in seconds)."""
        series = self._series.get((method, route, status))
        if series is None:
            series = self._new_series(method, route, status)
        # As Histogram.observe: the first bucket whose bound is at least the value.
        bucket = 1 + bisect_left(self.bounds, elapsed)
        histogram = series.histogram
        with self._lock:
            series.count += 1
            histogram[0] += elapsed
            histogram[bucket] += 1

    def _new_series(self, method: str, route: str, status: int) -> _Series:
        with self._lock:
            known = self._histograms.get((method, route))
            if known is None:
                known = ([0.0] * (len(self.bounds) + 2), time.time())
                self._histograms[(method, route)] = known
            series = self._series.get((method, route, status))
            if series is None:
                series = _Series(known[0])
                self._series[(method, route, status)] = series
            return series

    def describe(self) -> Iterator[Metric]:
        yield Metric(REQUESTS, REQUESTS_HELP, "counter")
        yield Metric(LATENCY, LATENCY_HELP, "histogram")

    def collect(self) -> Iterator[Metric]:
        created = prometheus_metrics._use_created
        with self._lock:
            series = [(key, s.count, s.created) for key, s in self._series.items()]
            histograms = [(key, list(h), at) for key, (h, at) in self._histograms.items()]
        requests = Metric(REQUESTS, REQUESTS_HELP, "counter")
        for (method, route, status), count, since in series:
            labels = {"method": method, "route": route, "status": str(status)}
            requests.add_sample(REQUESTS + "_total", labels, float(count))
            if created:
                requests.add_sample(REQUESTS + "_created", labels, since)
        yield requests
        latency = Metric(LATENCY, LATENCY_HELP, "histogram")
        bounds = [*(_go_float(b) for b in self.bounds), "+Inf"]
        for (method, route), histogram, since in histograms:
            labels = {"method": method, "route": route}
            total = 0.0
            for bound, in_bucket in zip(bounds, histogram[1:], strict=True):
                total += in_bucket
                latency.add_sample(LATENCY + "_bucket", {**labels, "le": bound}, total)
            latency.add_sample(LATENCY + "_count", labels, total)
            latency.add_sample(LATENCY + "_sum", labels, histogram[0])
            if created:
                latency.add_sample(LATENCY + "_created", labels, since)
        yield latency
