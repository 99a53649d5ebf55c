"""The protocol's direct answers (app.edge.protocol): a poll the front can answer from its
caches is written as soon as its head is in, byte for byte what the ASGI way writes (but the
Date), over a real uvicorn server and real sockets; pipelined requests keep their order; a
request a proxy forwarded, or one closing its connection, goes the ASGI way."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from app.core.config import Settings
from app.edge.protocol import EdgeProtocol, server_options
from app.main import create_app
from tests.conftest import ADMIN_TOKEN


class CountingProtocol(EdgeProtocol):
    """EdgeProtocol counting the answers it wrote itself."""

    direct = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As `serve` runs by default (ACCESS_LOG off); the suite's log capture would turn it on.
        self.access_log = False

    def _send_now(self, *args: Any) -> None:
        CountingProtocol.direct += 1
        super()._send_now(*args)


@pytest.fixture
def address(database_url: str) -> Iterator[tuple[str, int]]:
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, public_base_url=None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = {**server_options(settings), "http": CountingProtocol}
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(15)


def _responses(address: tuple[str, int], raw: bytes, count: int) -> list[bytes]:
    """`count` whole responses read from one connection after sending `raw`."""
    with socket.create_connection(address) as sock:
        sock.sendall(raw)
        sock.settimeout(10)
        data, found = b"", list[bytes]()
        while len(found) < count:
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                head = data[: end + 4]
                length = re.search(rb"\r\ncontent-length: (\d+)", head)
                size = int(length.group(1)) if length and not head.startswith(b"HEAD") else 0
                if b" 304 " in head.split(b"\r\n", 1)[0] or raw.startswith(b"HEAD"):
                    size = 0
                if len(data) >= end + 4 + size:
                    found.append(data[: end + 4 + size])
                    data = data[end + 4 + size :]
                    continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return found


def _request(method: str, target: str, *extra: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *extra, "", ""]
    return "\r\n".join(lines).encode()


def _without_date(response: bytes) -> bytes:
    return re.sub(rb"\r\ndate: [^\r]*", b"", response)


def _one(address: tuple[str, int], raw: bytes) -> bytes:
    [response] = _responses(address, raw, 1)
    return response


ETAG = re.compile(rb'\r\netag: ("[^"]+")')


@pytest.mark.parametrize(
    "target",
    ["/calendar.ics", "/groups/ai-in-cities/calendar.ics", "/api/meetings", "/api/groups"],
)
def test_a_direct_answer_is_the_asgi_answer(address: tuple[str, int], target: str) -> None:
    for _ in range(3):  # the first answers fill the caches
        warm = _one(address, _request("GET", target))
    assert warm.startswith(b"HTTP/1.1 200 "), warm[:300]
    etag = ETAG.search(warm)
    assert etag
    variants = [
        ("GET", ()),
        ("GET", ("Accept-Encoding: gzip",)),
        ("GET", (f"If-None-Match: {etag.group(1).decode()}",)),
    ]
    if target.endswith(".ics"):
        variants.append(("HEAD", ()))
    for method, headers in variants:
        before = CountingProtocol.direct
        direct = _one(address, _request(method, target, *headers))
        assert CountingProtocol.direct == before + 1, (method, headers)
        # An X-Forwarded-* header sends the same request the ASGI way.
        asgi = _one(address, _request(method, target, *headers, "X-Forwarded-Test: 1"))
        assert CountingProtocol.direct == before + 1
        assert _without_date(direct) == _without_date(asgi), (method, headers)
        assert direct.split(b"\r\n", 1)[0] in (b"HTTP/1.1 200 OK", b"HTTP/1.1 304 Not Modified")


def test_pipelined_requests_are_answered_in_order(address: tuple[str, int]) -> None:
    _one(address, _request("GET", "/calendar.ics"))
    _one(address, _request("GET", "/api/groups"))
    raw = (
        _request("GET", "/calendar.ics")
        + _request("GET", "/health")
        + _request("GET", "/api/groups")
        + _request("GET", "/calendar.ics", "Accept-Encoding: gzip")
    )
    answers = _responses(address, raw, 4)
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert b"BEGIN:VCALENDAR" in answers[0]
    assert b"content-type: application/json" in answers[1]
    assert b'"data":' in answers[2]
    assert b"content-encoding: gzip" in answers[3]


def test_a_forwarded_scheme_and_a_closing_connection_go_the_asgi_way(
    address: tuple[str, int],
) -> None:
    _one(address, _request("GET", "/calendar.ics"))
    before = CountingProtocol.direct
    # 127.0.0.1 is a trusted proxy (FORWARDED_ALLOW_IPS): its X-Forwarded-Proto is the scheme.
    forwarded = _one(address, _request("GET", "/calendar.ics", "X-Forwarded-Proto: https"))
    assert b"URL:https://127.0.0.1" in forwarded or b"https://127.0.0.1" in forwarded
    closing = _one(address, _request("GET", "/calendar.ics", "Connection: close"))
    assert b"\r\nconnection: close\r\n" in closing
    assert CountingProtocol.direct == before
