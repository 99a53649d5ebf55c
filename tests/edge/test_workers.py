"""`u4ssc-calendar serve --workers N`: N processes behind one port, sharing the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.eventually import OTHER_PROCESS_SECONDS, within
from tests.utils.server import ROOT, Server, free_port, wait_until_up


def test_serve_with_two_workers_answers_and_every_worker_sees_a_write(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        "WORKERS": "2",
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_up(server)
        meeting = {"group": "ai-in-cities", "date": "2027-06-01"}
        created = httpx.post(server.url + "/api/meetings", json=meeting, headers=AUTH, timeout=30)
        assert created.status_code == 201, created.text
        uid = created.json()["uid"].encode()

        def polls() -> list[bytes]:
            # New connections: each may reach either worker.
            return [httpx.get(server.url + "/calendar.ics", timeout=30).content for _ in range(6)]

        within(
            OTHER_PROCESS_SECONDS,
            polls,
            lambda bodies: all(uid in body.replace(b"\r\n ", b"") for body in bodies),
        )
        assert "Started parent process" in server.output() or "worker" in server.output().lower()
    finally:
        assert server.stop() in (0, -15), server.output()
