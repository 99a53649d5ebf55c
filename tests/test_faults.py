"""Faults: a server killed mid-burst keeps every write it acknowledged, and a read-only or full
store refuses writes with 503 while reads keep serving."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.errors import assert_error
from tests.utils.server import Server, start_server, wait_until_up

WRITERS = 8
# Acknowledged writes before the kill: enough that the kill lands in a steady burst.
KILL_AFTER = 40


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        result: str = connection.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def _burst_until_killed(server: Server, group: str) -> tuple[dict[str, str], int]:
    """Writer threads POST meetings until the server dies; SIGKILL once KILL_AFTER were
    acknowledged. The uid -> title of every 201 received, and how many requests failed."""
    acknowledged: dict[str, str] = {}
    failed = 0
    lock = threading.Lock()
    enough = threading.Event()
    numbers = itertools.count()

    def write() -> None:
        nonlocal failed
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
            while True:
                title = f"Burst write {next(numbers)}"
                body = {"group": group, "date": "2024-06-11", "title": title}
                try:
                    response = http.post("/api/meetings", json=body)
                except httpx.TransportError:
                    with lock:
                        failed += 1
                    return
                assert response.status_code == 201, response.text
                with lock:
                    acknowledged[response.json()["uid"]] = title
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()

    threads = [threading.Thread(target=write) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=120), "the writers never got going"
    server.process.kill()
    server.process.wait(timeout=20)
    for thread in threads:
        thread.join(timeout=60)
    return acknowledged, failed


def test_sigkill_mid_burst_loses_no_acknowledged_write(tmp_path: Path) -> None:
    database = tmp_path / "calendar.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "ADMIN_TOKEN": ADMIN_TOKEN}
    server = start_server(env, tmp_path / "first.log")
    try:
        wait_until_up(server)
        group = httpx.get(server.url + "/api/groups").json()["data"][0]["slug"]
        acknowledged, failed = _burst_until_killed(server, group)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    assert server.process.returncode == -9
    # Writers were still sending when the process died: the kill hit a burst, not a lull.
    assert failed == WRITERS
    assert len(acknowledged) >= KILL_AFTER

    assert _integrity(database) == "ok"
    restarted = start_server(env, tmp_path / "second.log")
    try:
        wait_until_up(restarted)
        assert _integrity(database) == "ok"
        with httpx.Client(base_url=restarted.url) as http:
            for uid, title in acknowledged.items():
                response = http.get(f"/api/meetings/{uid}")
                assert response.status_code == 200, (uid, response.text)
                assert response.json()["title"] == title
            # Nothing half-written either: every burst meeting in the store is whole.
            stored = http.get("/api/meetings", params={"limit": 1000}).json()["data"]
        burst = {m["uid"]: m["title"] for m in stored if m["title"].startswith("Burst write")}
        assert burst.keys() >= acknowledged.keys()
        assert len(burst) <= len(acknowledged) + WRITERS
        assert all(title.startswith("Burst write ") for title in burst.values())
    finally:
        restarted.stop()


@pytest.fixture
def read_only(tmp_path: Path) -> tuple[TestClient, dict[str, Any]]:
    """A store written normally, then served by an app that opens it read-only (SQLite's
    mode=ro: what a read-only volume gives; file modes do not stop root, who runs the tests)."""
    path = tmp_path / "calendar.db"
    writable = Settings(database_url=f"sqlite:///{path}", admin_token=ADMIN_TOKEN)
    with TestClient(create_app(writable)) as client:
        group = client.get("/api/groups").json()["data"][0]["slug"]
        body = {"group": group, "date": "2024-06-11", "start_time": "10:00", "end_time": "11:00"}
        meeting = client.post("/api/meetings", json=body, headers=AUTH).json()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN))
    return TestClient(app), {"group": group, "meeting": meeting}


READ_ONLY = "the database is read-only"


def test_a_read_only_store_refuses_writes_with_503(
    read_only: tuple[TestClient, dict[str, Any]],
) -> None:
    client, known = read_only
    with client:
        uid, group = known["meeting"]["uid"], known["group"]
        body = {"group": group, "date": "2024-06-12"}
        writes = [
            client.post("/api/meetings", json=body, headers=AUTH),
            client.patch(f"/api/meetings/{uid}", json={"title": "Moved"}, headers=AUTH),
            client.delete(f"/api/meetings/{uid}", headers=AUTH),
            client.patch(
                f"/api/groups/{group}",
                json={"status": "closed", "notes": ["read-only test"]},
                headers=AUTH,
            ),
            client.post(
                "/api/groups",
                json={"slug": "new-group", "name": "New", "kind": "thematic"},
                headers=AUTH,
            ),
        ]
        for response in writes:
            assert_error(response, 503, READ_ONLY, "reads still work")
            assert response.headers["Retry-After"] == "30"
        # Still the right answers before any write is tried.
        assert client.post("/api/meetings", json=body).status_code == 401
        assert client.get("/api/meetings/no-such-uid").status_code == 404


def test_a_read_only_store_keeps_serving_reads(
    read_only: tuple[TestClient, dict[str, Any]],
) -> None:
    client, known = read_only
    with client:
        uid, group = known["meeting"]["uid"], known["group"]
        assert client.get(f"/api/meetings/{uid}").json()["title"] == known["meeting"]["title"]
        assert client.get("/api/meetings").json()["count"] >= 1
        assert client.get(f"/api/groups/{group}").status_code == 200
        for path in ("/calendar.ics", f"/groups/{group}/calendar.ics", f"/meetings/{uid}.ics"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            calendar = icalendar.Calendar.from_ical(response.content)
            assert calendar.walk("VEVENT"), path
            again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
            assert again.status_code == 304
        assert client.get("/").status_code == 200
        assert client.get("/health").json() == {"status": "ok"}


def test_a_full_disk_refuses_writes_with_503_and_keeps_the_store(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'full.db'}", admin_token=ADMIN_TOKEN)
    app = create_app(settings)
    with TestClient(app) as client:
        group = client.get("/api/groups").json()["data"][0]["slug"]
        before = client.get("/api/meetings").json()["count"]
        engine = app.state.engine
        with engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

        # SQLite's page cap gives the same SQLITE_FULL as a full disk.
        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

        engine.dispose()
        body = {"group": group, "date": "2024-06-12", "description": "x" * 9000}
        for _ in range(20):
            response = client.post("/api/meetings", json=body, headers=AUTH)
            if response.status_code != 201:
                break
        assert_error(response, 503, "disk is full", "reads still work")
        assert client.get("/api/meetings").json()["count"] >= before
        assert client.get("/calendar.ics").status_code == 200
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
