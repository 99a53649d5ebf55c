"""The JSON API behind a per-revision cache: a pure ASGI layer that keeps each successful
GET of /api/groups and /api/meetings (lists with any filter, single items) per data revision,
with a strong ETag, and answers If-None-Match with 304.

A first request goes through the whole stack (routing, validation, guards, metrics); its
answer is kept under the revision the watcher (app.core.revision_watch) knew when it came in, so
an answer is never older than its key. The next identical request (same path, query, scheme,
Host, Origin or not) is answered here with the same headers, the metrics counted as the
inner layers would. Requests with credentials (Authorization, Cookie) are never cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import conditional
from app.core.revision_watch import UNKNOWN, Revisions, known_revision
from app.edge.poll_headers import PollHeaders

PREFIXES = ("/api/groups", "/api/meetings")
_SKIP = {b"authorization", b"cookie"}
_DROPPED = {b"date", b"server", b"content-length", b"etag"}


@dataclass(frozen=True)
class CachedAnswer:
    etag: bytes
    headers: list[tuple[bytes, bytes]]  # without ETag and Content-Length
    body: bytes
    route: str
    full: list[tuple[bytes, bytes]]  # the 200's headers, encoded once
    not_modified: list[tuple[bytes, bytes]]  # the 304's headers


def _cacheable(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 13.1.2), by the one reader of tag lists the feeds use too."""
    if if_none_match == etag:
        return True  # the common poll, without parsing a list
    tags = conditional.etag_list(if_none_match.decode("latin-1"))
    return "*" in tags or etag.decode("latin-1") in tags


def _answer(etag: bytes, headers: list[tuple[bytes, bytes]], body: bytes, route: str) -> Any:
    full = [*headers, (b"etag", etag), (b"content-length", str(len(body)).encode())]
    kept = {b"vary", b"cache-control", b"access-control-allow-origin"}
    short = [
        (k, v) for k, v in headers if k in kept or k.startswith(b"x-") or k == b"referrer-policy"
    ]
    return CachedAnswer(etag, headers, body, route, full, [*short, (b"etag", etag)])


class JsonStore:
    """The kept answers, bounded by entries and bytes, older revisions dropped; shared by the
    JsonCache layer (which fills it) and the front (app.edge.front, which answers its hits)."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 << 20) -> None:
        self._entries: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._revision = UNKNOWN
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], revision: int) -> CachedAnswer | None:
        with self._lock:
            cached = self._entries.get(key) if self._revision == revision else None
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        return cached

    def answer(
        self, scope: Scope, path: str, found: PollHeaders, watcher: Revisions | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str] | None:
        """The front's hit: status, headers, body and route of a kept answer to this GET, or
        None (not kept, credentials, revision unknown) for the stack to answer."""
        if (
            scope["method"] != "GET"
            or found.authorization is not None
            or found.cookie is not None
            or not _cacheable(path)
        ):
            return None
        revision = known_revision(watcher)
        if revision is None:
            return None
        host = found.host
        origin = found.origin is not None
        key = (path, scope.get("query_string", b""), scope.get("scheme"), host or b"", origin)
        cached = self.get(key, revision)
        if cached is None:
            return None
        if_none_match = found.if_none_match
        if if_none_match is not None and _matches(if_none_match, cached.etag):
            return 304, cached.not_modified, b"", cached.route
        return 200, cached.full, cached.body, cached.route

    def store(self, key: tuple[Any, ...], revision: int, answer: CachedAnswer) -> None:
        if revision == UNKNOWN:
            return
        with self._lock:
            if revision != self._revision:
                if revision < self._revision:
                    return  # a slower request of an older revision: not worth keeping
                self._entries.clear()
                self._bytes = 0
                self._revision = revision
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            self._entries[key] = answer
            self._bytes += len(answer.body)
            while len(self._entries) > 1 and (
                len(self._entries) > self._max_entries or self._bytes > self._max_bytes
            ):
                self._bytes -= len(self._entries.popitem(last=False)[1].body)


class JsonCache:
    """ASGI middleware: kept answers given, others filled, in a JsonStore."""

    def __init__(self, app: ASGIApp, store: JsonStore | None = None) -> None:
        self.app = app
        self.store = store if store is not None else JsonStore()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith("/api/")
            or scope["method"] != "GET"
            or not _cacheable(path)
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope["app"].state if "app" in scope else None
        service = getattr(state, "feeds", None)
        watcher = getattr(service, "revisions", None)
        if watcher is None or not getattr(watcher, "watching", False):
            await self.app(scope, receive, send)
            return
        revision = watcher.current()
        host = b""
        origin = False
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name in _SKIP:
                await self.app(scope, receive, send)
                return
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = True
            elif name == b"if-none-match":
                if_none_match = value
        key = (scope["path"], scope.get("query_string", b""), scope.get("scheme"), host, origin)
        if revision == UNKNOWN:
            # Just after a write: the whole stack answers, with its ETag (and 304), unkept.
            await self._fill(scope, receive, send, key, UNKNOWN, if_none_match)
            return
        cached = self.store.get(key, revision)
        if cached is None:
            self.store.misses += 1
            await self._fill(scope, receive, send, key, revision, if_none_match)
            return
        if if_none_match is not None and _matches(if_none_match, cached.etag):
            status, headers, body = 304, cached.not_modified, b""
        else:
            status, headers, body = 200, cached.full, cached.body
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        metrics = getattr(state, "metrics", None)
        if metrics is not None:
            metrics.record(scope, cached.route, status, time.perf_counter() - started)

    async def _fill(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: tuple[Any, ...],
        revision: int,
        if_none_match: bytes | None,
    ) -> None:
        """The whole stack answers; a 200 gets its ETag and is kept (unless the revision is
        unknown) before it is sent."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    start = None
                    await send(message)
                    capture.passthrough = True  # type: ignore[attr-defined]
                return
            if getattr(capture, "passthrough", False) or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            body = b"".join(chunks)
            headers = list(start.get("headers", []))
            etag = next((v for k, v in headers if k.lower() == b"etag"), None)
            if etag is None:
                etag = b'"' + hashlib.sha256(body).hexdigest()[:40].encode() + b'"'
            kept = [(k.lower(), v) for k, v in headers if k.lower() not in _DROPPED]
            route = getattr(scope.get("route"), "path", None)
            answer = _answer(etag, kept, body, route if isinstance(route, str) else scope["path"])
            self.store.store(key, revision, answer)
            if if_none_match is not None and _matches(if_none_match, etag):
                await send(
                    {"type": "http.response.start", "status": 304, "headers": answer.not_modified}
                )
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.start", "status": 200, "headers": answer.full})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
