"""The lean path for feed polls: a pure ASGI layer that answers from the feed cache.

Calendar apps poll the same few feeds over and over. A poll of a feed this process has
rendered at the current data revision costs one revision check and a dictionary look-up here;
after a write, a group or global feed the routes validated before is re-rendered here, once.
Anything else (a first request, a bad parameter, an unknown group or meeting, another method)
goes on to the FastAPI routes in app.api.feeds, which validate,
render, fill the cache and answer errors exactly as documented. Only a selection those routes
validated is ever in the cache, and the key holds the revision, so a hit is always right.

It is the outermost layer: on a hit it adds what the layers inside would have added (the
security headers, CORS for a request with an Origin, the request metrics and log line), from
the same constants, so that a poll pays for none of them. tests/test_fastpath.py checks that
its answers equal the full stack's, header for header.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import MAX_LIST_PARAMS, base_url, feed_context
from app.api.feeds import feed_answer
from app.config import Settings
from app.feed_selection import FeedSelection, cutoff_date
from app.middleware import CORS_EXPOSE, SECURITY_HEADERS
from app.publishing import FeedService
from app.vevent import FeedContext

_ALARM = re.compile(r"[0-9]{1,4}")
_CORS_AND_SECURITY = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", ", ".join(CORS_EXPOSE).encode()),
    *SECURITY_HEADERS,
)


def _route(path: str) -> str:
    """The route template a feed URL stands for, as the metrics name it."""
    if path == "/calendar.ics":
        return path
    return "/groups/{slug}/calendar.ics" if path.startswith("/groups/") else "/meetings/{uid}.ics"


_WANTED = {b"if-none-match", b"if-modified-since", b"accept-encoding"}
_MAX_CONTEXTS = 64


def parse_selection(path: str, query_string: bytes) -> FeedSelection | None:
    """The selection a feed URL names, when its parameters are plainly valid; None sends the
    request on to the routes (which then answer it, errors included).

    Mirrors the routes' parameters: `group` (repeatable, /calendar.ics only), `alarm` (0..1440),
    `cancelled` (show|hide, not for one meeting); other parameters are ignored, as there."""
    if path == "/calendar.ics":
        groups: tuple[str, ...] = ()
        uid = None
    elif path.startswith("/groups/") and path.endswith("/calendar.ics"):
        slug = path[len("/groups/") : -len("/calendar.ics")]
        if not slug or "/" in slug:
            return None
        groups, uid = (slug,), None
    elif path.startswith("/meetings/") and path.endswith(".ics"):
        uid = path[len("/meetings/") : -len(".ics")]
        if not uid or "/" in uid:
            return None
        groups = ()
    else:
        return None
    if not query_string:
        return FeedSelection(groups, uid, None, False)
    chosen: list[str] = []
    alarm: int | None = None
    cancelled: str | None = None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "group" and path == "/calendar.ics":
            chosen.append(value)
        elif name == "alarm":
            if alarm is not None or not _ALARM.fullmatch(value) or int(value) > 1440:
                return None
            alarm = int(value)
        elif name == "cancelled" and uid is None:
            if cancelled is not None or value not in ("show", "hide"):
                return None
            cancelled = value
    if chosen:
        if len(chosen) > MAX_LIST_PARAMS:
            return None
        groups = tuple(dict.fromkeys(chosen))
    return FeedSelection(groups, uid, alarm, cancelled == "hide")


class FeedFastPath:
    """ASGI middleware: GET/HEAD of a cached feed answered without routing or dependencies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._contexts: dict[tuple[Any, ...], FeedContext] = {}
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
        if selection is None or state is None or service is None or service.revisions is None:
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
        ctx = self._context(scope, settings)
        cutoff = cutoff_date(settings.cancelled_retention_days)
        rendered = service.cached(selection, ctx, cutoff, revision)
        if rendered is None and service.known(selection):
            # After a write every poller misses at once: render here (once, single flight)
            # rather than send each through routing and dependencies. Any trouble (a store
            # fault, say) is left to the full stack, which answers it as documented.
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
        headers: dict[str, str] = {}
        cross_origin = False
        for name, value in scope["headers"]:
            if name in _WANTED:
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
            elif name == b"origin":
                cross_origin = True
            elif name == b"cookie":
                # CORS then answers with the caller's own origin: leave that to the full stack.
                await self.app(scope, receive, send)
                return
        max_age = int(settings.refresh_interval.total_seconds())
        self.served += 1
        status, raw, body = feed_answer(rendered, headers, scope["method"], max_age)
        # As CORSMiddleware does: Vary gains Origin on every answer, the CORS headers come
        # with an Origin, the security headers always.
        raw = [(k, v + b", Origin") if k == b"vary" else (k, v) for k, v in raw]
        extra = _CORS_AND_SECURITY if cross_origin else SECURITY_HEADERS
        await send({"type": "http.response.start", "status": status, "headers": [*raw, *extra]})
        await send({"type": "http.response.body", "body": body})
        metrics = getattr(state, "metrics", None)
        if metrics is not None:
            metrics.record(scope, _route(scope["path"]), status, time.perf_counter() - started)

    def _context(self, scope: Scope, settings: Settings) -> FeedContext:
        """The routes' FeedContext for this request, built by the same functions, kept per
        (scheme, Host, server) so that a poll builds none."""
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        server = scope.get("server")
        key = (id(settings), scope.get("scheme"), host, tuple(server) if server else None)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = feed_context(settings, base_url(Request(scope), settings))
            if len(self._contexts) >= _MAX_CONTEXTS:
                self._contexts.clear()
            self._contexts[key] = ctx
        return ctx
