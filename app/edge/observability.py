"""What operators watch: Prometheus metrics of requests and feeds, and JSON request logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.head import method_asked
from app.edge.request_metrics import RequestStats

ACCESS_LOGGER = "u4ssc.access"
_errors = logging.getLogger("u4ssc")
# Unknown paths share one label, so that scanners cannot grow the metrics without bound.
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FeedCollector(Collector):
    """The feed cache's counters, read from the process's FeedService at scrape time; cache
    hits also counted elsewhere (the front's memo, app.edge.front) are added to its own."""

    def __init__(
        self, service: Callable[[], object], more_hits: list[Callable[[], int]] | None = None
    ) -> None:
        self._service = service
        self._more_hits = more_hits if more_hits is not None else []

    def collect(self) -> Iterator[Metric]:
        service = self._service()
        events = getattr(service, "events", None)
        counters = (
            ("u4ssc_feed_renders", "Feeds rendered (cache misses).", service, "renders"),
            ("u4ssc_feed_cache_hits", "Feed requests answered from the cache.", service, "hits"),
            ("u4ssc_event_cache_hits", "Events reused from the event cache.", events, "hits"),
            ("u4ssc_event_cache_misses", "Events rendered anew.", events, "misses"),
        )
        for name, help_text, owner, attribute in counters:
            family = CounterMetricFamily(name, help_text)
            value = float(getattr(owner, attribute, 0) or 0)
            if name == "u4ssc_feed_cache_hits":
                value += sum(count() for count in self._more_hits)
            family.add_metric([], value)
            yield family
        entries = getattr(service, "entries", None)
        if entries is not None:
            gauge = GaugeMetricFamily("u4ssc_feed_cache_entries", "Rendered feeds held in memory.")
            gauge.add_metric([], float(entries))
            yield gauge


class Metrics:
    """One registry per application, so that several apps in one process (tests) stay apart."""

    def __init__(self, feed_service: Callable[[], object]) -> None:
        self.registry = CollectorRegistry()
        # Counted in plain numbers, exported as a Counter and a Histogram would be.
        self.requests = RequestStats(LATENCY_BUCKETS)
        self.registry.register(self.requests)
        # Feed cache hits answered without asking the service (app.edge.front): counted there.
        self.more_feed_hits: list[Callable[[], int]] = []
        self.registry.register(FeedCollector(feed_service, self.more_feed_hits))
        self.access_log: logging.Logger | None = None

    def record(self, scope: Scope, route: str, status: int, elapsed: float) -> None:
        """Count and time one answer and, with JSON logs, write its line."""
        method = method_asked(scope)
        self.requests.observe(method, route, status, elapsed)
        if self.access_log is not None:
            self.access_log.info(_log_line(scope, method, status, elapsed))
        elif status >= 500:
            # No access log by default (ACCESS_LOG): an operator still sees every failure.
            _errors.warning("%s %s answered %d", method, scope.get("path", ""), status)


def configure_json_logs() -> logging.Logger:
    """The access logger: one JSON object per line on standard output."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(getattr(h, "u4ssc_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.u4ssc_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def route_templates(routes: list[BaseRoute], prefix: str = "") -> list[tuple[re.Pattern[str], str]]:
    """Every route's path template with the pattern it matches, included routers flattened."""
    found: list[tuple[re.Pattern[str], str]] = []
    for route in routes:
        path = getattr(route, "path", None)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += route_templates(inner.routes, prefix + str(getattr(context, "prefix", "")))
        elif isinstance(path, str) and hasattr(route, "endpoint"):
            template = prefix + path
            found.append((compile_path(template)[0], template))
    return found


def _route_template(
    scope: Scope, templates: Callable[[], list[tuple[re.Pattern[str], str]]]
) -> str:
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    # Answers given before routing (the feed fast path, the guards): the route they stand for.
    request_path = str(scope.get("path", ""))
    for pattern, template in templates():
        if pattern.match(request_path):
            return template
    return UNMATCHED


class ObservabilityMiddleware:
    """Counts and times every HTTP request; with JSON logs, writes one line per request.

    Only the method, path (never the query string, which may carry secrets), status, duration
    and client address are logged; headers, Authorization included, never are."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self._metrics = metrics
        self._routes = routes
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    def _route_templates(self) -> list[tuple[re.Pattern[str], str]]:
        # Built on first use: routes are complete once the application serves.
        if self._templates is None:
            self._templates = route_templates(self._routes)
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope, self._route_templates)
            self._metrics.record(scope, route, status, elapsed)


def _log_line(scope: Scope, method: str, status: int, elapsed: float) -> str:
    client: Any = scope.get("client")
    line = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "method": method,
        "path": scope.get("path", ""),
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "client": client[0] if client else None,
    }
    return json.dumps(line, ensure_ascii=False)


def install_metrics(app: FastAPI, log_format: str) -> Metrics:
    """The metrics, on app.state.metrics; ObservabilityMiddleware records into them."""
    metrics = Metrics(lambda: app.state.feeds)
    metrics.access_log = configure_json_logs() if log_format == "json" else None
    app.state.metrics = metrics
    return metrics
