"""Invitations by email with 10,000 confirmed subscribers of one group, against a real
`u4ssc-calendar serve` process, its SQLite file and a real SMTP server (aiosmtpd, in this
process, counting what it is handed).

    .venv/bin/python -m bench.invitations                       # 10,000 subscribers, rate 100/s
    .venv/bin/python -m bench.invitations --rate 10 --seconds 20 --moves 5 --json

It times each write that moves a meeting (the target: under 100 ms, the fan-out's one row is in
its transaction), the fan-out of the first move (every copy written to the outbox, in batches,
by the server's sender), and the delivery rate over `--seconds` after the first mail, against
the configured MAIL_PER_SECOND, counted once every copy is written (while the copies are being
written, the sender shares the store's write lock with the fan-out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import make_engine, write_session
from app.delivery import fanout, outbox
from app.models import Group, OutboxMessage, Subscriber, SubscriberGroup
from app.store.migrate import prepare

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "invitations-bench-token-0123456789"
GROUP = "ai-in-cities-wg2"


class Counting:
    """An SMTP receiver that keeps only the arrival time of each message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[float] = []

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        with self.lock:
            self.arrivals.append(time.monotonic())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def add_subscribers(url: str, count: int) -> None:
    engine = make_engine(url)
    stamp = dt.datetime.now(dt.UTC)
    with write_session(engine) as session:
        group_id = session.exec(select(Group.id).where(Group.slug == GROUP)).one()
        rows = [
            Subscriber(
                email=f"person{n:05d}@example.net",
                consented_at=stamp,
                manage_token=secrets.token_urlsafe(32),
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(
            SubscriberGroup(subscriber_id=r.id, group_id=group_id)
            for r in rows
            if r.id is not None and group_id is not None
        )
    engine.dispose()


def mails_written(url: str) -> tuple[int, bool]:
    """Invitations in the outbox, and whether every fan-out is done."""
    engine = make_engine(url)
    with Session(engine) as session:
        written = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.event).startswith("invite."))
        ).one()
        fanning = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.kind) == "fanout", col(OutboxMessage.status) == "pending")
        ).one()
    engine.dispose()
    return int(written), fanning == 0


def one_transaction(url: str, count: int) -> float:
    """The alternative not taken: every copy of one change written in one transaction (what a
    write would hold the lock for, besides its own work), timed on the same store."""
    engine = make_engine(url)
    settings = Settings(database_url=url, invitation_batch=count)
    with Session(engine) as session:
        job = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "fanout").limit(1)
        ).one()
        payload = {**json.loads(job.payload), "after": 0}
    with write_session(engine) as session:
        again = outbox.enqueue(
            session, "fanout", job.target, job.event, json.dumps(payload), outbox.Policy()
        )
        session.flush()
        job_id = again.id
    assert job_id is not None
    started = time.perf_counter()
    fanout.step(engine, settings, job_id)
    took = (time.perf_counter() - started) * 1000
    engine.dispose()
    return round(took, 1)


def start(
    url: str, smtp_port: int, rate: float, folder: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ADMIN_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": "https://calendar.example.org",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "MAIL_PER_SECOND": str(rate),
        "OUTBOX_POLL_SECONDS": "0.2",
    }
    command = [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start: see " + str(folder / "server.log"))


def run(count: int, rate: float, seconds: float, moves: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="invitations-bench-"))
    url = f"sqlite:///{folder / 'calendar.db'}"
    engine = make_engine(url)
    prepare(engine, Settings(database_url=url))
    engine.dispose()
    receiver = Counting()
    smtp_port = free_port()
    controller = Controller(receiver, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    process, base = start(url, smtp_port, rate, folder)
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
            day = dt.date.today() + dt.timedelta(weeks=20)
            body = {"group": GROUP, "date": day.isoformat(), "start_time": "16:00"}
            body["end_time"] = "17:00"
            uid = http.post("/api/meetings", json=body).json()["uid"]  # before anyone subscribed
            add_subscribers(url, count)
            took: list[float] = []
            first_move = 0.0
            for n in range(moves):
                moved = (day + dt.timedelta(days=n + 1)).isoformat()
                started = time.perf_counter()
                answer = http.patch(f"/api/meetings/{uid}", json={"date": moved})
                took.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
                first_move = first_move or time.monotonic() - took[-1] / 1000
                time.sleep(0.5)
        while True:
            written, done = mails_written(url)
            if written >= count * moves and done:
                break
            time.sleep(0.2)
        # The rate is counted once every copy is written: the sender then only sends.
        first = time.monotonic()
        fanned = first - first_move
        time.sleep(seconds)
        with receiver.lock:
            window = [t for t in receiver.arrivals if first <= t < first + seconds]
            before = len([t for t in receiver.arrivals if t < first])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        controller.stop()
    in_one = one_transaction(url, count)
    return {
        "subscribers": count,
        "moves": moves,
        "move_ms": [round(t, 1) for t in took],
        "move_ms_median": round(statistics.median(took), 1),
        "move_ms_max": round(max(took), 1),
        "fan_out_seconds": round(fanned, 1),
        "copies_written": count * moves,
        "all_copies_in_one_transaction_ms": in_one,
        "mail_per_second_setting": rate,
        "delivered_during_fan_out": before,
        "delivered_in_window": len(window),
        "window_seconds": seconds,
        "delivered_per_second": round(len(window) / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="MAIL_PER_SECOND")
    parser.add_argument("--seconds", type=float, default=20.0, help="the delivery window")
    parser.add_argument("--moves", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.subscribers, args.rate, args.seconds, args.moves)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:26} {value}")
    ok = result["move_ms_max"] < 100
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
