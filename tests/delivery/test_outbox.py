"""The outbox: claims, backoff, giving up, the command line, and real servers (SIGKILL while
messages are pending; two replicas on one PostgreSQL database)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.cli import main
from app.core.config import get_settings
from app.core.db import make_engine, write_session
from app.delivery import outbox
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.delivery.test_announce import GROUP, future_thursday, mail_settings, outbox_rows
from tests.utils.mail import LIST, smtp_server, wait_for
from tests.utils.server import free_port, running_servers, start_server, wait_until_up


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def enqueue(engine: Engine, count: int, policy: outbox.Policy) -> None:
    with write_session(engine) as session:
        for n in range(count):
            outbox.enqueue(session, outbox.MAIL, LIST, "test", f"message {n}", policy)


def test_the_first_retry_comes_within_30_seconds_then_backs_off() -> None:
    policy = outbox.Policy()
    assert 0 < policy.delay(1) <= 30
    delays = [policy.delay(n) for n in range(1, 20)]
    assert all(b == min(2 * a, policy.max_retry) for a, b in itertools.pairwise(delays))
    assert delays[-1] == policy.max_retry
    assert outbox.Policy().give_up == dt.timedelta(days=3)


def test_two_senders_never_claim_one_message(store: Engine) -> None:
    policy = outbox.Policy(lease=dt.timedelta(seconds=60))
    enqueue(store, 5, policy)
    # All five go to one channel (the SMTP server): a claim takes one, the oldest not leased.
    first = [*outbox.claim(store, "a", policy, limit=3), *outbox.claim(store, "a", policy)]
    second = [m for _ in range(3) for m in outbox.claim(store, "b", policy, limit=10)]
    assert len(first) == 2 and len(second) == 3
    assert not {m.id for m in first} & {m.id for m in second}
    assert outbox.claim(store, "c", policy) == []
    # A failure releases the lease and schedules a retry; a success ends it.
    assert not outbox.mark_failed(store, first[0], "refused", policy)
    outbox.mark_sent(store, first[1])
    with Session(store) as session:
        rows = {row.id: row for row in outbox.list_messages(session)}
    retry_at = rows[first[0].id].next_attempt_at.replace(tzinfo=dt.UTC)
    assert rows[first[0].id].status == outbox.PENDING and rows[first[0].id].lease_until is None
    assert dt.timedelta(0) < retry_at - outbox.utcnow() <= dt.timedelta(seconds=30)
    assert rows[first[1].id].status == outbox.SENT


def test_a_lease_that_runs_out_lets_another_sender_resend_under_the_same_id(
    store: Engine,
) -> None:
    policy = outbox.Policy(lease=dt.timedelta(seconds=-1))  # as if the holder died long ago
    enqueue(store, 1, policy)
    (taken,) = outbox.claim(store, "dead", policy)
    (again,) = outbox.claim(store, "alive", policy)
    assert again.message_id == taken.message_id and again.attempts == 2


def test_an_old_message_is_given_up_said_in_log_and_metrics(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = mail_settings(database_url, port).model_copy(
        update={"outbox_give_up_hours": 1 / 3600}
    )
    app = create_app(settings)
    caplog.set_level(logging.INFO, logger="u4ssc.outbox")
    with TestClient(app) as client:
        body = {"group": GROUP, "date": future_thursday().isoformat()}
        assert client.post("/api/meetings?announce=true", json=body, headers=AUTH).is_success
        engine = app.state.engine
        wait_for(lambda: outbox_rows(engine)[0].status == outbox.FAILED, "giving up")
        metrics = client.get("/metrics").text
    (row,) = outbox_rows(engine)
    assert row.attempts >= 2 and "Connect" in (row.last_error or "")
    assert "u4ssc_outbox_failed_total 1.0" in metrics
    assert "u4ssc_outbox_pending 0.0" in metrics
    assert any("gave up on mail" in r.getMessage() for r in caplog.records)


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_cli_announce_outbox_list_retry_and_run(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    day = future_thursday().isoformat()
    add = ["meetings", "add", "--group", GROUP, "--date", day, "--start", "16:00"]
    add += ["--end", "17:00", "--announce"]
    assert main.main(add) == 1
    assert "announce: this server cannot send announcements" in capsys.readouterr().err
    port = free_port()
    cli_env.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    cli_env.setenv("ANNOUNCE_TO", LIST)
    get_settings.cache_clear()
    assert main.main(add) == 0
    capsys.readouterr()
    assert main.main(["outbox", "run"]) == 1  # the server is down: to retry later
    assert "0 delivered, 1 to retry later" in capsys.readouterr().out
    assert main.main(["outbox", "list"]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()
    assert header.startswith("ID\tMESSAGE_ID\tKIND\tEVENT\tSTATUS\tATTEMPTS\t")
    number, message_id, kind, event, status, attempts = line.split("\t")[:6]
    assert (kind, event, status, attempts) == ("mail", "announce.created", "pending", "1")
    assert main.main(["outbox", "retry", message_id]) == 0
    assert "pending" in capsys.readouterr().out
    assert main.main(["outbox", "retry", "999999"]) == 1
    assert "no outbox message '999999'" in capsys.readouterr().err
    with smtp_server(port) as inbox:
        assert main.main(["outbox", "run"]) == 0
        assert "1 delivered" in capsys.readouterr().out
        assert inbox.message_ids() == [f"<{message_id}@u4ssc.itu.int>"]
        assert main.main(["outbox", "run"]) == 0  # nothing left: sends nothing twice
        assert len(inbox.raw) == 1
    assert main.main(["outbox", "list"]) == 0
    assert f"{number}\t{message_id}\tmail\tannounce.created\tsent" in capsys.readouterr().out


def server_env(database_url: str, smtp_port: int) -> dict[str, str | None]:
    return {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ANNOUNCE_TO": LIST,
        "OUTBOX_RETRY_SECONDS": "0.2",
        "OUTBOX_POLL_SECONDS": "0.1",
        "OUTBOX_LEASE_SECONDS": "3",
        "LOG_FORMAT": "text",
    }


def announce_meetings(url: str, count: int, weeks: int = 13) -> list[str]:
    uids = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        for n in range(count):
            day = future_thursday(weeks) + dt.timedelta(days=n)
            body = {"group": GROUP, "date": day.isoformat(), "title": f"Meeting {n}"}
            response = http.post("/api/meetings?announce=true", json=body)
            assert response.status_code == 201, response.text
            uids.append(response.json()["uid"])
    return uids


def test_sigkill_while_messages_are_pending_loses_none_and_sends_none_twice(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = server_env(database_url, port)
    server = start_server(env, tmp_path / "first.log")
    try:
        wait_until_up(server)
        announce_meetings(server.url, 6)
        store = make_engine(database_url)
        try:
            wait_for(
                lambda: all(row.attempts >= 1 for row in outbox_rows(store)),
                "every message tried while the SMTP server is down",
            )
        finally:
            store.dispose()
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=20)
    with smtp_server(port) as inbox:
        again = start_server(env, tmp_path / "second.log")
        try:
            wait_until_up(again)
            store = make_engine(database_url)
            try:
                wait_for(
                    lambda: all(row.status == outbox.SENT for row in outbox_rows(store)),
                    "every message delivered after the restart",
                )
                rows = outbox_rows(store)
            finally:
                store.dispose()
        finally:
            assert again.stop() == 0
        ids = inbox.message_ids()
    assert len(rows) == 6
    assert sorted(ids) == sorted(f"<{row.message_id}@u4ssc.itu.int>" for row in rows)
    assert len(set(ids)) == len(ids) == 6


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)
def test_two_replicas_on_one_postgresql_deliver_each_message_once(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = server_env(database_url, port)
    with running_servers(env, tmp_path, count=2) as servers:
        # Written through both, while the SMTP server is down: both senders keep trying.
        uids = announce_meetings(servers[0].url, 10) + announce_meetings(servers[1].url, 10, 20)
        store = make_engine(database_url)
        try:
            wait_for(
                lambda: all(row.attempts >= 2 for row in outbox_rows(store)),
                "both replicas retrying",
            )
            with smtp_server(port) as inbox:
                wait_for(
                    lambda: all(row.status == outbox.SENT for row in outbox_rows(store)),
                    "every message delivered",
                )
                rows = outbox_rows(store)
                ids = inbox.message_ids()
        finally:
            store.dispose()
    assert len(uids) == len(rows) == 20
    assert len(ids) == len(set(ids)) == 20
    assert set(ids) == {f"<{row.message_id}@u4ssc.itu.int>" for row in rows}
