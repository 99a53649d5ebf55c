"""The lean path for feed polls: answers from the feed cache, in two places.

Calendar apps poll the same few feeds over and over. `FeedHits` is the front's share
(app.edge.front, outside the whole middleware stack): a poll of a feed this process holds at the
current data revision costs a revision read, a clock read and a dictionary look-up there, no
database connection and no admission slot. `FeedFastPath` is a pure ASGI layer inside admission:
it answers what the front leaves (the first poll of a URL, duplicated headers, a store whose
revision needs a query) and, after a write, re-renders a group or global feed the routes
validated before, once; that uses a connection, so it is admitted like any route. Anything else
(a first request, a bad parameter, an unknown group or meeting, another method) goes on to the
FastAPI routes in app.api.feeds, which validate, render, fill the cache and answer errors
exactly as documented. Only a selection those routes validated is ever in the cache, and the
key holds the revision, so a hit is always right.

Both add what the layers inside would have added (the security headers, CORS for a request
with an Origin, the request metrics), from the same constants, so that a poll pays for none of
them. tests/test_fastpath.py checks that their answers equal the full stack's, header for header.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.edge.guard import CORS_EXPOSE, SECURITY_HEADERS
from app.edge.poll_headers import PollHeaders, read_first
from app.feeds.answer import Headers, answer_headers, is_fresh, wants_gzip
from app.feeds.rendered import RenderedFeed
from app.feeds.selection import cutoff_date
from app.feeds.service import FeedService
from app.feeds.url import parse_selection
from app.i18n.languages import LANGUAGES
from app.ical.wording import FeedContext

_CORS_AND_SECURITY = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", ", ".join(CORS_EXPOSE).encode()),
    *SECURITY_HEADERS,
)


def feed_route(path: str) -> str:
    """The route template a feed URL stands for, as the metrics name it."""
    if path == "/calendar.ics":
        return path
    return "/groups/{slug}/calendar.ics" if path.startswith("/groups/") else "/meetings/{uid}.ics"


# A context per (scheme, Host, server) and language: the allowed hosts, six times.
_MAX_CONTEXTS = 64 * len(LANGUAGES)
DAY = 86400
# How long the front answers a URL from its memo before asking the feed service again (which
# keeps the service's LRU order and lets an evicted feed go).
RECHECK_SECONDS = 1.0


class FeedFastPath:
    """ASGI middleware: GET/HEAD of a cached feed answered without routing or dependencies,
    and a known feed re-rendered here after a write."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.contexts = FeedContexts()
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].endswith(".ics")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        # The latency recorded covers the revision check and any re-render, as the full
        # stack's would.
        started = time.perf_counter()
        selection = parse_selection(scope["path"], scope.get("query_string", b""))
        state = scope["app"].state if "app" in scope else None
        service: FeedService | None = getattr(state, "feeds", None)
        found = read_first(scope["headers"])
        if (
            selection is None
            or state is None
            or service is None
            or service.revisions is None
            # CORS then answers with the caller's own origin: left to the full stack.
            or found.cookie is not None
        ):
            await self.app(scope, receive, send)
            return
        settings: Settings = state.settings
        watcher = service.revisions
        # A networked store's query must not block the event loop: it runs in a worker thread.
        try:
            if watcher.cheap:
                revision = watcher.current()
            else:
                revision = await to_thread.run_sync(watcher.current)
        except Exception:
            # A store fault (or no free connection) is the full stack's to answer, as documented.
            await self.app(scope, receive, send)
            return
        ctx = self.contexts.get(scope, found.host, settings, selection.lang)
        cutoff = cutoff_date(settings.cancelled_retention_days)
        rendered = service.cached(selection, ctx, cutoff, revision)
        if rendered is None and service.known(selection):
            # After a write every poller misses at once: render here (once, single flight)
            # rather than send each through routing and dependencies. Any trouble (a store
            # fault, say) is left to the full stack, which answers it as documented. This
            # layer is inside Admission: a render holds a slot, as its connection requires.
            retention = settings.cancelled_retention_days
            try:
                rendered = await to_thread.run_sync(
                    service.refresh, state.engine, selection, ctx, retention
                )
            except Exception:
                rendered = None
        if rendered is None:
            await self.app(scope, receive, send)
            return
        max_age = int(settings.refresh_interval.total_seconds())
        self.served += 1
        status, headers, body = poll_answer(rendered, scope["method"], found, max_age)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        metrics = getattr(state, "metrics", None)
        if metrics is not None:
            metrics.record(scope, feed_route(scope["path"]), status, time.perf_counter() - started)


class DailyCutoff:
    """cutoff_date(retention_days) for the current UTC day, computed once a day: a poll reads
    the clock and compares, and the date moves on at midnight UTC (or when the clock is set
    back across one)."""

    def __init__(self, retention_days: int, clock: Callable[[], float] = time.time) -> None:
        self.retention_days = retention_days
        self.clock = clock
        self._day: tuple[float, float, dt.date] = (0.0, 0.0, dt.date.min)

    def at(self, now: float) -> dt.date:
        since, until, cutoff = self._day
        if since <= now < until:
            return cutoff
        day = int(now // DAY)  # POSIX time: every UTC day is 86,400 s long
        today = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        cutoff = cutoff_date(self.retention_days, today)
        self._day = (day * DAY, (day + 1) * DAY, cutoff)
        return cutoff

    def __call__(self) -> dt.date:
        return self.at(self.clock())


def poll_answer(
    rendered: RenderedFeed, method: str, found: PollHeaders, max_age: int
) -> tuple[int, Headers, bytes]:
    """What app.feeds.answer decides, with what CORSMiddleware and GuardMiddleware add
    (Vary gains Origin on every answer, CORS headers with an Origin, the security headers
    always); each kind of header list built once per rendered feed."""
    if_none_match, since, accept = (
        found.if_none_match,
        found.if_modified_since,
        found.accept_encoding,
    )
    gzipped = wants_gzip(accept.decode("latin-1") if accept is not None else None)
    fresh = is_fresh(
        rendered,
        if_none_match.decode("latin-1") if if_none_match is not None else None,
        since.decode("latin-1") if since else None,
    )
    status = 304 if fresh else 200
    cross_origin = found.origin is not None
    key = ("poll", status, gzipped, cross_origin, max_age)
    headers = rendered.answers.get(key)
    if headers is None:
        raw = answer_headers(rendered, status, gzipped, max_age)
        extra = _CORS_AND_SECURITY if cross_origin else SECURITY_HEADERS
        headers = [(k, v + b", Origin") if k == b"vary" else (k, v) for k, v in raw]
        headers += extra
        rendered.answers[key] = headers
    if fresh or method == "HEAD":
        return status, headers, b""
    return status, headers, rendered.gzipped if gzipped else rendered.body


class FeedContexts:
    """The routes' FeedContext for a request, built by the same functions, kept per
    (scheme, Host, server, language) so that a poll builds none."""

    def __init__(self) -> None:
        self._contexts: dict[tuple[Any, ...], FeedContext] = {}

    def get(self, scope: Scope, host: bytes | None, settings: Settings, lang: str) -> FeedContext:
        server = scope.get("server")
        key = (id(settings), scope.get("scheme"), host, tuple(server) if server else None, lang)
        ctx = self._contexts.get(key)
        if ctx is None:
            base = settings.base_url(str(Request(scope).base_url))
            ctx = FeedContext.of(settings, base, lang)
            if len(self._contexts) >= _MAX_CONTEXTS:
                self._contexts.clear()
            self._contexts[key] = ctx
        return ctx
