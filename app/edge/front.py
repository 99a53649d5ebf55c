"""The front: a poll the caches can answer is answered outside the whole middleware stack.

A cached feed poll or JSON read needs no database connection, so it need not wait for an
admission slot, and it cannot fail in a way Starlette's error layer would have to answer. The
front sits around that whole stack (app.main's CalendarApp puts it there) and answers such a
request at once, with the status, headers, body and metrics the stack would give it:

- feeds (`FeedHits`): a GET or HEAD of a URL whose feed the service holds at the current
  revision and today's cutoff, from a memo per URL (path, query, scheme, Host, server);
- JSON reads: a GET the JSON cache holds at the current revision (app.edge.json_cache.JsonStore).

Anything else goes on to the stack: the Host guard, admission, the JSON cache's and the feed
fast path's own layers (a re-render after a write is admitted there, as it uses a connection),
then the routes. So does a request the layers inside would settle their own way: a Host this
service does not answer to, a header of interest sent twice, credentials, a revision just
invalidated by a write. tests/test_fastpath.py and tests/api/test_json_cache.py compare the
front's answers with the full stack's, header for header.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.config import Settings
from app.core.revision_watch import UNKNOWN, known_revision
from app.edge import hosts
from app.edge.fastpath import (
    RECHECK_SECONDS,
    DailyCutoff,
    FeedContexts,
    feed_route,
    poll_answer,
)
from app.edge.json_cache import JsonStore
from app.edge.poll_headers import PollHeaders, read_once
from app.feeds.answer import Headers
from app.feeds.rendered import RenderedFeed
from app.feeds.selection import FeedSelection
from app.feeds.service import FeedService
from app.feeds.url import parse_selection
from app.ical.wording import FeedContext

# The ASGI callables, as Starlette spells them (this layer needs nothing else of it).
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Answer = tuple[int, Headers, bytes, str]  # status, headers, body, route template

log = logging.getLogger("u4ssc")
_MAX_MEMO = 256
_MAX_HOSTS = 64


@dataclass
class _Known:
    """What one URL names, and its feed at a revision and cutoff, as the service last gave it."""

    selection: FeedSelection
    ctx: FeedContext
    revision: int
    cutoff: dt.date
    rendered: RenderedFeed
    checked: float
    route: str
    max_age: int


class FeedHits:
    """The front's feed answers: a GET or HEAD of a feed the service holds at the current
    revision and today's cutoff; None leaves the request to the stack.

    The memo asks the service again at least every RECHECK_SECONDS per URL, which keeps the
    service's LRU order and lets a feed it evicted go; it holds the current revision only."""

    def __init__(self, service: FeedService, settings: Settings, cutoff: DailyCutoff) -> None:
        self.service = service
        self.settings = settings
        self.cutoff = cutoff
        self.contexts = FeedContexts()
        self._memo: dict[tuple[Any, ...], _Known] = {}
        self._revision = UNKNOWN
        # Answers given from the memo without asking the service, whose `hits` counts the
        # others: u4ssc_feed_cache_hits adds both.
        self.hits = 0

    def answer(self, scope: Scope, path: str, found: PollHeaders) -> Answer | None:
        method = scope["method"]
        watcher = self.service.revisions
        if (
            (method != "GET" and method != "HEAD")
            or scope.get("root_path")
            # CORS then answers with the caller's own origin: left to the full stack.
            or found.cookie is not None
        ):
            return None
        # Without a watcher the revision is a query: the stack's layer runs it off the loop.
        revision = known_revision(watcher)
        if revision is None:
            return None
        now = self.cutoff.clock()
        cutoff = self.cutoff.at(now)
        server = scope.get("server")
        if server is not None and server.__class__ is not tuple:
            server = tuple(server)
        key = (path, scope.get("query_string", b""), scope.get("scheme"), found.host, server)
        known = self._memo.get(key)
        if (
            known is None
            or known.revision != revision
            or known.cutoff != cutoff
            or not known.checked <= now < known.checked + RECHECK_SECONDS
        ):
            known = self._ask(scope, key, known, revision, cutoff, now)
            if known is None:
                return None
        else:
            self.hits += 1
        status, headers, body = poll_answer(known.rendered, method, found, known.max_age)
        return status, headers, body, known.route

    def _ask(
        self,
        scope: Scope,
        key: tuple[Any, ...],
        known: _Known | None,
        revision: int,
        cutoff: dt.date,
        now: float,
    ) -> _Known | None:
        """The service's feed for this URL, remembered; None when it has none (yet)."""
        if known is None:
            selection = parse_selection(key[0], key[1])
            if selection is None:
                return None
            ctx = self.contexts.get(scope, key[3], self.settings, selection.lang)
        else:
            selection, ctx = known.selection, known.ctx
        rendered = self.service.cached(selection, ctx, cutoff, revision)
        if rendered is None:
            self._memo.pop(key, None)
            return None
        max_age = int(self.settings.refresh_interval.total_seconds())
        route = feed_route(key[0])
        fresh = _Known(selection, ctx, revision, cutoff, rendered, now, route, max_age)
        if revision != self._revision or len(self._memo) >= _MAX_MEMO:
            self._memo.clear()  # no older revision's feed is kept alive here
            self._revision = revision
        self._memo[key] = fresh
        return fresh


class RecordsAnswers(Protocol):
    """The request metrics (app.edge.observability.Metrics), as the front records into them."""

    def record(self, scope: Scope, route: str, status: int, elapsed: float) -> None: ...


class PollFront:
    """Pure ASGI, around the whole stack: cached feed polls and JSON reads answered here."""

    def __init__(
        self,
        app: ASGIApp,
        feeds: FeedHits,
        json: JsonStore,
        allowed: frozenset[str],
        metrics: RecordsAnswers,
    ) -> None:
        self.app = app
        self.feeds = feeds
        self.json = json
        self._authorities = hosts.Allowed(allowed)
        # (scheme, Host) pairs already seen allowed and canonical: checked once, then a lookup.
        self._hosts_allowed: set[tuple[str, bytes]] = set()
        self.metrics = metrics
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            answer = self.answer_now(scope)
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def answer_now(self, scope: Scope) -> tuple[int, Headers, bytes] | None:
        """The whole answer to an HTTP request the caches can give, counted and timed; None
        leaves it to the stack. Also asked by the HTTP protocol itself (app.edge.protocol),
        before any ASGI call, with the server's own scope."""
        path: str = scope["path"]
        if not (path.endswith(".ics") or path.startswith("/api/")):
            return None
        started = time.perf_counter()
        try:
            answer = self._answer(scope, path)
        except Exception:
            # A fault of this layer must not cost the answer: the stack gives it.
            log.exception("the front could not answer %s; the stack will", path)
            return None
        if answer is None:
            return None
        status, headers, body, route = answer
        self.served += 1
        self.metrics.record(scope, route, status, time.perf_counter() - started)
        return status, headers, body

    def _answer(self, scope: Scope, path: str) -> Answer | None:
        found = read_once(scope["headers"])
        if found is None:
            return None
        host = found.host
        if host is not None and (scope["scheme"], host) not in self._hosts_allowed:
            if self._authorities.canonical(host, scope) != host:
                return None  # the Host guard's to refuse, or to write in its canonical spelling
            if len(self._hosts_allowed) < _MAX_HOSTS:
                self._hosts_allowed.add((scope["scheme"], host))
        if path.endswith(".ics"):
            return self.feeds.answer(scope, path, found)
        return self.json.answer(scope, path, found, self.feeds.service.revisions)
