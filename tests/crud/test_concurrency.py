"""Many writers at once against one SQLite file: nothing lost, nothing locked, nothing 500."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from app.store.migrate import prepare
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.errors import Response
from tests.utils.server import Env, running_servers

THREADS = 8
PER_THREAD = 50
GROUP = "digital-wellbeing"


def _meeting(thread: int, n: int) -> dict[str, str]:
    # Distinct days and times, all on valid wall-clock times of 2031.
    return {
        "group": GROUP,
        "title": f"Writer {thread} meeting {n}",
        "date": f"2031-{1 + n % 12:02d}-{1 + thread:02d}",
        "start_time": f"{8 + n % 8:02d}:00",
        "end_time": f"{8 + n % 8:02d}:45",
    }


def _hammer(post: Callable[[int, int], int]) -> Counter[int]:
    """Run THREADS writers of PER_THREAD meetings each, released together; their statuses."""
    barrier = threading.Barrier(THREADS)

    def writer(thread: int) -> list[int]:
        barrier.wait()
        return [post(thread, n) for n in range(PER_THREAD)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(writer, range(THREADS)))
    return Counter(status for statuses in results for status in statuses)


def _titles(get: Callable[[str], Response]) -> list[str]:
    body = get(f"/api/meetings?group={GROUP}&start=2031-01-01&limit=1000").json()
    assert body["count"] == len(body["data"])
    return [m["title"] for m in body["data"]]


def _expected_titles() -> list[str]:
    return sorted(_meeting(t, n)["title"] for t in range(THREADS) for n in range(PER_THREAD))


def test_eight_test_clients_on_one_app_write_400_meetings(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'shared.db'}",
        admin_token=ADMIN_TOKEN,
        public_base_url=BASE_URL,
    )
    app = create_app(settings)
    with TestClient(app) as main_client:
        clients = [TestClient(app) for _ in range(THREADS)]
        failures: list[str] = []

        def post(thread: int, n: int) -> int:
            response = clients[thread].post("/api/meetings", json=_meeting(thread, n), headers=AUTH)
            status: int = response.status_code
            if status != 201:
                failures.append(response.text)
            return status

        statuses = _hammer(post)
        assert statuses == {201: THREADS * PER_THREAD}, (statuses, failures[:3])
        assert sorted(_titles(main_client.get)) == _expected_titles()
        uids = {m["uid"] for m in main_client.get("/api/meetings?limit=1000").json()["data"]}
        assert len(uids) == main_client.get("/api/meetings").json()["count"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real uvicorn with two worker processes on one SQLite file (migrated and seeded first)."""
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    engine = make_engine(database_url)
    prepare(engine, Settings(database_url=database_url))
    engine.dispose()
    env: Env = {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
    }
    with running_servers(env, tmp_path, workers=2) as (running,):
        yield running.url, running.log


def test_eight_threads_against_a_real_server_write_400_meetings(
    server: tuple[str, Path],
) -> None:
    base, log = server
    clients = [httpx.Client(base_url=base, timeout=120) for _ in range(THREADS)]
    failures: list[str] = []
    stop_reading = threading.Event()
    read_statuses: Counter[int] = Counter()

    def reader() -> None:
        # Subscribers keep polling while the secretariat writes.
        with httpx.Client(base_url=base, timeout=120) as client:
            while not stop_reading.is_set():
                read_statuses[client.get("/calendar.ics").status_code] += 1

    def post(thread: int, n: int) -> int:
        response = clients[thread].post("/api/meetings", json=_meeting(thread, n), headers=AUTH)
        if response.status_code != 201:
            failures.append(response.text)
        return response.status_code

    polling = threading.Thread(target=reader)
    polling.start()
    try:
        statuses = _hammer(post)
    finally:
        stop_reading.set()
        polling.join()
        for client in clients:
            client.close()

    assert statuses == {201: THREADS * PER_THREAD}, (statuses, failures[:3])
    assert set(read_statuses) == {200}, read_statuses
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sorted(_titles(client.get)) == _expected_titles()
        changes = client.get("/api/changes?limit=1", headers=AUTH).json()
        assert changes["count"] >= THREADS * PER_THREAD
    output = log.read_text(errors="replace")
    assert "database is locked" not in output
    assert "Traceback" not in output
    assert " 500" not in output
