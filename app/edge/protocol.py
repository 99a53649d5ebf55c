"""The HTTP edge `u4ssc-calendar serve` runs: uvicorn's h11 protocol with a cap on request
line + headers (431 above it) and a deadline for them, so a client cannot hold memory or a
connection by sending a huge or a never-ending header. The body's deadline is GuardMiddleware's.

uvicorn alone caps headers only with `--http h11 --h11-max-incomplete-event-size` (and answers
400, not 431) and has no header deadline at all: operators running `uvicorn app.main:app`
themselves put a proxy in front (compose.yaml's nginx shows the settings)."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.config import Settings

MAX_HEADER_BYTES = 16 * 1024
TOO_LARGE = f"request line and headers are larger than {MAX_HEADER_BYTES} bytes, the most accepted"


class EdgeProtocol(H11Protocol):
    """h11 with `header_timeout` seconds for each request's line and headers: counted from the
    connection's start, or from the first byte of the next request on a kept-alive connection
    (the idle time between requests is uvicorn's `timeout_keep_alive`)."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            self._disarm()
        elif self.conn.their_state is h11.IDLE:
            self._arm()  # headers still incomplete: the deadline runs (or starts now)
        else:
            self._disarm()  # the request is in: its body has GuardMiddleware's deadline

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests the keep-alive timeout applies; the deadline starts with new bytes.
        self._disarm()

    def _expire(self) -> None:
        self._header_deadline = None
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        # h11 refuses a request line + headers over its limit as a protocol error, which
        # uvicorn answers 400; the right answer is 431.
        if len(self.conn.trailing_data[0]) > MAX_HEADER_BYTES:
            self._refuse(431, "Request Header Fields Too Large", TOO_LARGE)
        else:
            super().send_400_response(msg)

    def _refuse(self, status: int, reason: str, text: str) -> None:
        body = text.encode("ascii")
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n"
            "x-content-type-options: nosniff\r\n\r\n"
        ).encode("ascii")
        self.transport.write(head + body)
        self.transport.close()


def edge_protocol(header_timeout: float) -> type[EdgeProtocol]:
    """The protocol class for uvicorn.Config(http=...), with this header deadline."""
    return type("ConfiguredEdgeProtocol", (EdgeProtocol,), {"header_timeout": header_timeout})


def server_options(settings: Settings) -> dict[str, Any]:
    """What `u4ssc-calendar serve` gives uvicorn.Config beyond the app, host, port and workers
    (the benchmark's bare app runs under the same)."""
    return {
        # h11 with a 16 KB cap on request line + headers (431) and a deadline for them.
        "http": edge_protocol(settings.read_timeout_seconds),
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_keep_alive": 5,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_graceful_shutdown": 10,
        # A line per request costs a poll 40% of its throughput: off unless ACCESS_LOG is set;
        # with JSON logs the app writes its own. Errors are logged either way.
        "access_log": settings.access_log and settings.log_format != "json",
    }
