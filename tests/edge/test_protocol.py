"""The parser `serve` runs (httptools, app.edge.protocol) keeps every protection, over real
sockets: the 16 KB cap on request line + headers, the header deadline against a thousand slow
clients, keep-alive after a pause."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx

from tests.edge.test_edge import TIMEOUT, _address, _env, _read_all
from tests.utils.server import running_servers

CONNECTIONS = 1000


def _get(server_address: tuple[str, int], extra: bytes = b"") -> bytes:
    with socket.create_connection(server_address) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"\r\n")
        return _read_all(sock, time.monotonic() + 5)


def test_a_16000_byte_header_passes_and_a_17000_byte_one_gets_431(
    database_url: str, tmp_path: Path
) -> None:
    with running_servers(_env(database_url), tmp_path) as [server]:
        address = _address(server)
        passed = _get(address, b"X-Big: " + b"a" * 16_000 + b"\r\n")
        assert passed.startswith(b"HTTP/1.1 200 "), passed[:200]
        refused = _get(address, b"X-Big: " + b"a" * 17_000 + b"\r\n")
        assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]
        # Many small headers add up the same way; a long URL counts too.
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(170))
        assert _get(address, many).startswith(b"HTTP/1.1 431 ")
        with socket.create_connection(address) as sock:
            sock.sendall(b"GET /health?" + b"q" * 17_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _read_all(sock, time.monotonic() + 5).startswith(b"HTTP/1.1 431 ")
        # The server is still well.
        assert httpx.get(server.url + "/health").status_code == 200


def test_a_kept_alive_connection_works_after_an_idle_pause_longer_than_the_header_deadline(
    database_url: str, tmp_path: Path
) -> None:
    with (
        running_servers(_env(database_url), tmp_path) as [server],
        httpx.Client(base_url=server.url) as client,
    ):
        first = client.get("/health")
        assert first.status_code == 200
        # Longer than READ_TIMEOUT_SECONDS, shorter than the 5 s keep-alive: the header deadline
        # starts with the next request's first byte, not with the last answer.
        time.sleep(TIMEOUT + 1)
        again = client.get("/api/groups/ai-in-cities")
        assert again.status_code == 200
        assert client.get("/health").status_code == 200
        # One connection carried all three.
        assert client.get("/health").headers.get("connection", "keep-alive") != "close"


def test_a_thousand_clients_sending_headers_a_byte_a_second_are_closed_while_health_answers(
    database_url: str, tmp_path: Path
) -> None:
    with running_servers(_env(database_url), tmp_path) as [server]:
        address = _address(server)
        slow = [socket.create_connection(address) for _ in range(CONNECTIONS)]
        began = time.monotonic()
        stop = threading.Event()
        closed: set[int] = set()

        def drip() -> None:
            line = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            position = 0
            while not stop.is_set():
                for index, sock in enumerate(slow):
                    if index in closed:
                        continue
                    try:
                        sock.send(line[position : position + 1] or b"a")
                    except OSError:
                        closed.add(index)
                position += 1
                stop.wait(1.0)

        dripper = threading.Thread(target=drip)
        dripper.start()
        health: list[float] = []
        try:
            with httpx.Client(base_url=server.url, timeout=5) as client:
                while time.monotonic() - began < TIMEOUT + 1.5:
                    asked = time.monotonic()
                    assert client.get("/health").status_code == 200
                    health.append(time.monotonic() - asked)
                    time.sleep(0.1)
            deadline = began + TIMEOUT + 6
            for sock in slow:
                assert _read_all(sock, deadline) in (b"<closed>", b"<reset>")
        finally:
            stop.set()
            dripper.join(timeout=5)
            for sock in slow:
                sock.close()
        assert max(health) < 1.0, f"/health took {max(health):.2f} s at worst"
        # All closed by the deadline, not one by one after it.
        assert time.monotonic() - began < TIMEOUT + 6
