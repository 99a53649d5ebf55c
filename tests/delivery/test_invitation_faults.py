"""Invitations through faults: the SMTP server down during a write (the write answers at once,
each mail arrives once when it is back), SIGKILL with 1,000 invitations pending (all arrive after
the restart, each Message-ID once), two replicas on one PostgreSQL database (each once)."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.db import make_engine
from app.delivery import outbox
from app.main import create_app
from app.models import OutboxMessage
from tests.conftest import AUTH
from tests.delivery.test_announce import GROUP, future_thursday, outbox_rows
from tests.delivery.test_invitations import invite_settings
from tests.delivery.test_outbox import server_env
from tests.utils.invites import add_confirmed, read_invite
from tests.utils.mail import Inbox, smtp_server, wait_for
from tests.utils.server import free_port, running_servers, start_server, wait_until_up


def invitation_rows(engine: Engine) -> list[OutboxMessage]:
    return [row for row in outbox_rows(engine) if row.event.startswith("invite.")]


def counts(engine: Engine) -> dict[tuple[str, str], int]:
    """Outbox rows by kind and status, counted by the store: polling must not load thousands
    of mails into the process whose SMTP server (a thread) receives them."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                col(OutboxMessage.kind), col(OutboxMessage.status)
            )
        ).all()
    return {(kind, status): int(n) for kind, status, n in rows}


def fanned_out(engine: Engine) -> bool:
    found = counts(engine)
    return not found.get((outbox.FANOUT, outbox.PENDING))


def all_delivered(engine: Engine, mails: int) -> bool:
    found = counts(engine)
    return (
        fanned_out(engine)
        and found.get((outbox.MAIL, outbox.SENT)) == mails
        and not found.get((outbox.MAIL, outbox.PENDING))
    )


def assert_each_once(inbox: Inbox, engine: Engine, addresses: list[str], meetings: int) -> None:
    rows = invitation_rows(engine)
    assert len(rows) == len(addresses) * meetings
    ids = inbox.message_ids()
    assert len(ids) == len(set(ids)) == len(rows)
    assert set(ids) == {f"<{row.message_id}@u4ssc.itu.int>" for row in rows}
    per_address = Counter(str(m["To"]) for m in inbox.messages)
    assert per_address == dict.fromkeys(addresses, meetings)


def test_smtp_down_during_a_write_each_mail_arrives_once_when_it_is_back(
    database_url: str,
) -> None:
    port = free_port()
    app = create_app(invite_settings(database_url, port))
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        addresses = add_confirmed(engine, 20, GROUP)
        body = {"group": GROUP, "date": future_thursday().isoformat()}
        started = time.perf_counter()
        created = client.post("/api/meetings", json=body, headers=AUTH)
        took = time.perf_counter() - started
        assert created.status_code == 201, created.text
        assert took < 2.0  # generous: the write waits for no SMTP server
        wait_for(lambda: fanned_out(engine), "the change fanned out")
        wait_for(
            lambda: all(row.attempts >= 1 for row in invitation_rows(engine)),
            "every invitation tried while the SMTP server is down",
        )
        assert all(row.status == outbox.PENDING for row in invitation_rows(engine))
        with smtp_server(port) as inbox:
            wait_for(
                lambda: all(row.status == outbox.SENT for row in invitation_rows(engine)),
                "every invitation delivered once the server is back",
            )
            assert_each_once(inbox, engine, addresses, 1)
            for message in inbox.messages[:3]:
                assert read_invite(message).method == "REQUEST"


def test_sigkill_with_1000_invitations_pending_loses_none_and_doubles_none(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = server_env(database_url, port) | {"MAIL_PER_SECOND": "1000", "INVITATION_BATCH": "100"}
    store = make_engine(database_url)
    try:
        server = start_server(env, tmp_path / "first.log")
        try:
            wait_until_up(server)
            addresses = add_confirmed(store, 1000, GROUP)
            body = {"group": GROUP, "date": future_thursday().isoformat()}
            with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
                assert http.post("/api/meetings", json=body).status_code == 201
            # Killed while the copies are being written and tried against a server that is down.
            wait_for(
                lambda: counts(store).get((outbox.MAIL, outbox.PENDING), 0) >= 100,
                "copies being written",
            )
        finally:
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=20)
        pending = [row for row in invitation_rows(store) if row.status == outbox.PENDING]
        assert pending and not any(row.status == outbox.SENT for row in invitation_rows(store))
        with smtp_server(port) as inbox:
            again = start_server(env, tmp_path / "second.log")
            try:
                wait_until_up(again)
                wait_for(
                    lambda: all_delivered(store, 1000),
                    "all 1,000 invitations delivered after the restart",
                    deadline=300,
                )
            finally:
                assert again.stop() == 0
            assert_each_once(inbox, store, addresses, 1)
    finally:
        store.dispose()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)
def test_two_replicas_on_one_postgresql_deliver_each_invitation_once(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = server_env(database_url, port) | {"MAIL_PER_SECOND": "1000", "INVITATION_BATCH": "20"}
    store = make_engine(database_url)
    try:
        with running_servers(env, tmp_path, count=2) as servers:
            addresses = add_confirmed(store, 100, GROUP)
            for n, server in enumerate(servers * 2):
                day = future_thursday(13 + n).isoformat()
                with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
                    response = http.post("/api/meetings", json={"group": GROUP, "date": day})
                    assert response.status_code == 201, response.text
            wait_for(lambda: fanned_out(store), "four changes fanned out", deadline=120)
            with smtp_server(port) as inbox:
                wait_for(
                    lambda: all_delivered(store, 400),
                    "every invitation delivered",
                    deadline=300,
                )
                assert_each_once(inbox, store, addresses, 4)
    finally:
        store.dispose()
