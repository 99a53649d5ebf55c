"""Bursts on real servers: a cold process, right after another process wrote, two replicas.

Each case sends 100 concurrent clients x 10 requests over a mix of feeds, JSON, pages and
single meetings as soon as /health answers, and asks what issue 11 asks: no 5xx, no dropped
connection, the slowest answer under 5 s. The database is SQLite, or PostgreSQL when
TEST_DATABASE_URL is set (the suite's second run)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ROOT, running_servers

CLIENTS = 100
PER_CLIENT = 10
SLOWEST_SECONDS = 5.0  # the bound issue 11 asks for
PATHS = (
    "/calendar.ics",
    "/groups/ai-in-cities/calendar.ics",
    "/calendar.ics?group=procurement&group=digital-wellbeing",
    "/groups/ai-in-cities-wg2/calendar.ics?alarm=15",
    "/api/meetings",
    "/api/meetings?group=people-centred-cities",
    "/api/groups",
    "/api/groups/ai-in-cities-wg2",
    "/",
    "/groups/city-platforms",
    "/api/meetings/ai-in-cities-wg2-2023-07-27",
    "/meetings/digital-wellbeing-2023-09-21.ics",
)


def _burst(urls: list[str]) -> tuple[Counter[str], float]:
    """CLIENTS threads, each on a connection of its own opened beforehand, released together;
    the statuses (or the transport error) and the slowest answer."""
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> list[tuple[str, float]]:
        host, port = urls[n % len(urls)].removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.connect()
        results = []
        try:
            barrier.wait()
            for k in range(PER_CLIENT):
                path = PATHS[(n + k) % len(PATHS)]
                began = time.monotonic()
                try:
                    connection.request("GET", path)
                    answer = connection.getresponse()
                    answer.read()
                    status = str(answer.status)
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                    connection.close()  # the next request opens a new connection
                results.append((status, time.monotonic() - began))
        finally:
            connection.close()
        return results

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for batch in pool.map(client, range(CLIENTS)) for a in batch]
    return Counter(status for status, _ in answers), max(seconds for _, seconds in answers)


def _assert_held(statuses: Counter[str], slowest: float, logs: str) -> None:
    assert sum(statuses.values()) == CLIENTS * PER_CLIENT
    assert statuses == Counter({"200": CLIENTS * PER_CLIENT}), (statuses, logs[-3000:])
    assert slowest < SLOWEST_SECONDS, (slowest, statuses)


def _env(url: str) -> dict[str, str | None]:
    return {"DATABASE_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_BASE_URL": None}


def test_a_cold_server_holds_100_clients_at_once(empty_database_url: str, tmp_path: Path) -> None:
    # A new database: the server migrates and seeds it, then every cache starts empty.
    with running_servers(_env(empty_database_url), tmp_path) as [server]:
        statuses, slowest = _burst([server.url])
        _assert_held(statuses, slowest, server.output())
    assert "QueuePool limit" not in server.output()


def _cli_write(database_url: str, title: str) -> None:
    """A write made by another process: the CLI on the same store."""
    command = [sys.executable, "-m", "app.cli.main", "meetings", "add", "--group", "ai-in-cities"]
    command += ["--date", "2031-05-06", "--start", "10:00", "--end", "11:00", "--title", title]
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_warm_server_holds_100_clients_right_after_another_process_writes(
    database_url: str, tmp_path: Path
) -> None:
    with running_servers(_env(database_url), tmp_path) as [server]:
        for path in PATHS:  # warm: every cache filled at this revision
            assert httpx.get(server.url + path, timeout=30).status_code == 200
        _cli_write(database_url, "Written by the CLI")
        statuses, slowest = _burst([server.url])
        _assert_held(statuses, slowest, server.output())
        feed = httpx.get(server.url + "/calendar.ics", timeout=30).text
        assert "Written by the CLI" in feed


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two replicas share one PostgreSQL database: needs TEST_DATABASE_URL",
)
def test_two_replicas_hold_100_clients_while_a_third_process_writes(
    database_url: str, tmp_path: Path
) -> None:
    with running_servers(_env(database_url), tmp_path, count=2) as servers:
        stop = threading.Event()
        written: list[int] = []

        def writer() -> None:
            while not stop.is_set() and len(written) < 20:
                _cli_write(database_url, f"Replica write {len(written)}")
                written.append(1)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            statuses, slowest = _burst([server.url for server in servers])
        finally:
            stop.set()
            thread.join()
        _assert_held(statuses, slowest, servers[0].output() + servers[1].output())
        assert written, "the third process wrote nothing during the burst"
