"""Hostile clients against a real `u4ssc-calendar serve`: huge headers, half-sent requests,
invented Host headers, token guessing from the secretariat's own address."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.server import Server, running_servers

TIMEOUT = 2.0  # READ_TIMEOUT_SECONDS of these servers, short to keep the tests quick


def _env(url: str, **extra: str | None) -> dict[str, str | None]:
    return {
        "DATABASE_URL": url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": None,
        "READ_TIMEOUT_SECONDS": str(TIMEOUT),
        **extra,
    }


def _rss_kb(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1))


def _address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _read_all(sock: socket.socket, deadline: float) -> bytes:
    """What the server sends until it closes the connection (or the deadline passes)."""
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return data + b"<reset>"
        if not chunk:
            return data + b"<closed>"
        data += chunk
    return data


def test_a_50_mb_header_gets_431_and_no_memory(database_url: str, tmp_path: Path) -> None:
    with running_servers(_env(database_url), tmp_path) as [server]:
        assert httpx.get(server.url + "/health").status_code == 200
        before = _rss_kb(server)
        answers = []
        for _ in range(3):
            with socket.create_connection(_address(server)) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
                chunk = b"a" * (1024 * 1024)
                try:
                    for _ in range(50):
                        sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server closed the connection: as it should
                answers.append(_read_all(sock, time.monotonic() + 5))
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 431 ") or answer in (b"<closed>", b"<reset>"), (
                answer[:200]
            )
        assert any(a.startswith(b"HTTP/1.1 431 ") for a in answers), answers
        grown = _rss_kb(server) - before
        assert grown < 5 * 1024, f"RSS grew by {grown} kB"
        # Up to the cap a header is fine.
        fine = httpx.get(server.url + "/health", headers={"X-Big": "a" * 12_000})
        assert fine.status_code == 200


def test_a_half_sent_request_is_closed_within_the_timeout(
    database_url: str, tmp_path: Path
) -> None:
    with (
        running_servers(_env(database_url), tmp_path) as [server],
        socket.create_connection(_address(server)) as silent,
        socket.create_connection(_address(server)) as partial,
        socket.create_connection(_address(server)) as slow_body,
    ):
        began = time.monotonic()
        partial.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        slow_body.sendall(
            b"POST /api/meetings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 62\r\n"
            b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b'\r\n\r\n{"group": '
        )
        deadline = began + TIMEOUT + 3
        # Nothing at all, headers cut short: closed without an answer.
        assert _read_all(silent, deadline) in (b"<closed>", b"<reset>")
        assert _read_all(partial, deadline) in (b"<closed>", b"<reset>")
        assert time.monotonic() - began < TIMEOUT + 3
        # Headers in, body trickling: 408.
        answer = _read_all(slow_body, deadline)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
        assert b"did not arrive within" in answer


def _renders(server: Server) -> float:
    metrics = httpx.get(server.url + "/metrics").text
    found = re.search(r"^u4ssc_feed_renders(?:_total)? (\S+)$", metrics, re.MULTILINE)
    assert found is not None, metrics[:500]
    return float(found.group(1))


def test_2500_invented_host_headers_render_nothing(database_url: str, tmp_path: Path) -> None:
    # The production default: no ALLOWED_HOSTS, no PUBLIC_BASE_URL.
    env = _env(database_url, ALLOWED_HOSTS=None)
    with running_servers(env, tmp_path) as [server]:
        _, port = _address(server)
        allowed = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for host in allowed:  # one render per allowed host
                assert http.get("/calendar.ics", headers={"Host": host}).status_code == 200
            renders = _renders(server)
            before = _rss_kb(server)
            for n in range(2500):
                answer = http.get("/calendar.ics", headers={"Host": f"h{n}.example:{port}"})
                assert answer.status_code == 400, answer.text
            assert "ALLOWED_HOSTS" in answer.json()["detail"]
            for host in allowed:
                assert http.get("/calendar.ics", headers={"Host": host}).status_code == 200
            assert http.get("/", headers={"Host": "evil.example"}).status_code == 400
            # Probes often name the container's address: they answer whatever the Host.
            assert http.get("/health", headers={"Host": "10.1.2.3:8000"}).status_code == 200
            assert _renders(server) == renders
            grown = _rss_kb(server) - before
        assert grown < 20 * 1024, f"RSS grew by {grown} kB"


def test_ten_bad_tokens_then_the_valid_one_from_that_address_writes(
    database_url: str, tmp_path: Path
) -> None:
    body = {"group": "ai-in-cities", "date": "2031-03-04", "start_time": "10:00"}
    body["end_time"] = "11:00"
    with (
        running_servers(_env(database_url), tmp_path) as [server],
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        bad = {"Authorization": "Bearer a-wrong-token-0123456789"}
        statuses = [
            http.post("/api/meetings", json=body, headers=bad).status_code for _ in range(11)
        ]
        assert statuses == [401] * 10 + [429], statuses
        written = http.post("/api/meetings", json=body, headers=AUTH)
        assert written.status_code == 201, written.text
