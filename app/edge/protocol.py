"""The HTTP edge `u4ssc-calendar serve` runs: uvicorn's httptools protocol (llhttp, the fastest
parser uvicorn has) with a cap on request line + headers (431 above it) and a deadline for them,
so a client cannot hold memory or a connection by sending a huge or a never-ending header. The
body's deadline is GuardMiddleware's.

uvicorn declined a header limit for httptools (uvicorn #157) and has no header deadline at all;
h11, which has the limit, costs about 100 µs a request (bench/NOTES.md). So the limit and the
deadline are counted here, around the parser: raw bytes fed while a request's head is
incomplete, and the head's own bytes once it is. A 20 MB header is refused after at most 16 KB
plus one read. Operators running `uvicorn app.main:app` themselves put a proxy in front
(compose.yaml's nginx shows the settings).

A request the front can answer from its caches (app.edge.front: a cached feed poll or JSON
read) is answered here, as soon as its head is in, with the bytes uvicorn would write for it:
no task, no ASGI call. Anything the front declines, a request a trusted proxy forwarded (its
X-Forwarded-* headers change the scope), a connection closing or not draining goes the ASGI way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from app.core.config import Settings

MAX_HEADER_BYTES = 16 * 1024
TOO_LARGE = f"request line and headers are larger than {MAX_HEADER_BYTES} bytes, the most accepted"
# What a request line adds to its target besides: method, spaces, version, CRLF ("DELETE ",
# " HTTP/1.1\r\n") and the blank line closing the head.
LINE_BYTES = 24
_FORWARDED = b"x-forwarded-"
# How deep the ASGI app the server loaded wraps ours (uvicorn's proxy-headers layer, ...).
_MAX_WRAPPERS = 4


class HeadersTooLarge(Exception):
    """Raised from the parser's callback: the head grew past MAX_HEADER_BYTES."""


class EdgeProtocol(HttpToolsProtocol):
    """httptools with `header_timeout` seconds for each request's line and headers: counted from
    the connection's start, or from the first byte of the next request on a kept-alive
    connection (the idle time between requests is uvicorn's `timeout_keep_alive`)."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        # When the current head's first byte came (loop time); None between requests. The
        # deadline's timer is not moved for each request: when it fires it closes, or re-arms
        # for the head in progress, or lets the next byte arm it again.
        self._head_since: float | None = None
        self._awaiting_head = True  # bytes that arrive now belong to a request's head
        self._raw_head_bytes = 0  # fed since the head began, while it is incomplete
        self._head_bytes = 0  # the head's own bytes, as the parser hands them over
        self._too_large = False
        self._forwarded = False  # the request carries X-Forwarded-* headers
        self._answer_now: Callable[[Any], Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_since = self.loop.time()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head:
            self._raw_head_bytes += len(data)
            if self._head_since is None:
                self._head_since = self.loop.time()
                self._arm()
        super().data_received(data)
        too_large = self._awaiting_head and self._raw_head_bytes > MAX_HEADER_BYTES
        if too_large and not self.transport.is_closing():
            self._refuse(431, "Request Header Fields Too Large", TOO_LARGE)

    # Parser callbacks: the head's size as it arrives.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = LINE_BYTES
        self._forwarded = False

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow(len(name) + len(value) + 4)
        if name[:12].lower() == _FORWARDED:
            self._forwarded = True
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._raw_head_bytes = 0
        self._head_since = None  # the request is in: its body has GuardMiddleware's deadline
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True  # what comes next is the next request's head

    def _grow(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEADER_BYTES:
            self._too_large = True
            raise HeadersTooLarge  # the parser stops; uvicorn answers through send_400_response

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse(431, "Request Header Fields Too Large", TOO_LARGE)
        else:
            super().send_400_response(msg)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if (
            app is self.app
            and cycle.keep_alive
            and not self._forwarded
            and not self.access_log
            and not self.flow.write_paused
        ):
            answer_now = self._answer_now or self._find_answer_now()
            answer = answer_now(cycle.scope) if answer_now is not None else None
            if answer is not None:
                self._send_now(cycle, *answer)
                return
        super()._start_asgi_task(cycle, app)

    def _find_answer_now(self) -> Callable[[Any], Any] | None:
        """The front's answer_now, once the app has built its stack (at its first request)."""
        app = self.app
        for _ in range(_MAX_WRAPPERS):
            found = getattr(app, "answer_now", None)
            if found is not None:
                self._answer_now = found
                return found  # type: ignore[no-any-return]
            app = getattr(app, "app", None)
        return None

    def _send_now(
        self,
        cycle: RequestResponseCycle,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        """Writes the whole answer as uvicorn's cycle would (status line, its default headers,
        the answer's), then completes the cycle: the keep-alive timer and the next pipelined
        request follow as after any answer."""
        self.transport.write(_head(status, self.server_state.default_headers, headers) + body)
        cycle.response_started = cycle.response_complete = True
        cycle.message_event.set()
        self.on_response_complete()

    def _arm(self) -> None:
        if self._header_deadline is None and self._head_since is not None:
            deadline = self._head_since + self.header_timeout
            self._header_deadline = self.loop.call_at(deadline, self._expire)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expire(self) -> None:
        # Between requests the keep-alive timeout applies; the deadline starts with new bytes.
        self._header_deadline = None
        since = self._head_since
        idle = self.cycle is None or self.cycle.response_complete
        if since is None or not self._awaiting_head or not idle or self.transport.is_closing():
            return
        if self.loop.time() >= since + self.header_timeout:
            self.transport.close()
        else:
            self._arm()  # a later head than the one the timer was set for

    def _refuse(self, status: int, reason: str, text: str) -> None:
        body = text.encode("ascii")
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n"
            "x-content-type-options: nosniff\r\n\r\n"
        ).encode("ascii")
        self.transport.write(head + body)
        self.transport.close()


# Encoded heads of direct answers: the server's default headers (a new list each second, with
# the Date) then the answer's own (a list kept per cached answer); a few per second are made.
_HEADS: dict[tuple[int, int], tuple[list[tuple[bytes, bytes]], object, bytes]] = {}
_MAX_HEADS = 256


def _head(status: int, defaults: object, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The status line and header block, as uvicorn's cycle writes them."""
    key = (status, id(headers))
    known = _HEADS.get(key)
    if known is not None and known[0] is headers and known[1] is defaults:
        return known[2]
    content = [STATUS_LINE[status]]
    for name, value in (*defaults, *headers):  # type: ignore[misc]
        content += (name, b": ", value, b"\r\n")
    content.append(b"\r\n")
    head = b"".join(content)
    if len(_HEADS) >= _MAX_HEADS:
        _HEADS.clear()
    _HEADS[key] = (headers, defaults, head)
    return head


def edge_protocol(header_timeout: float) -> type[EdgeProtocol]:
    """The protocol class for uvicorn.Config(http=...), with this header deadline."""
    return type("ConfiguredEdgeProtocol", (EdgeProtocol,), {"header_timeout": header_timeout})


def server_options(settings: Settings) -> dict[str, Any]:
    """What `u4ssc-calendar serve` gives uvicorn.Config beyond the app, host, port and workers
    (the benchmark's bare apps run under uvicorn's defaults: httptools and uvloop)."""
    return {
        # httptools with a 16 KB cap on request line + headers (431) and a deadline for them.
        "http": edge_protocol(settings.read_timeout_seconds),
        "loop": "uvloop",
        "timeout_keep_alive": 5,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_graceful_shutdown": 10,
        # A line per request costs a poll 40% of its throughput: off unless ACCESS_LOG is set;
        # with JSON logs the app writes its own. Errors are logged either way.
        "access_log": settings.access_log and settings.log_format != "json",
    }
