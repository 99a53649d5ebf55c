"""Webhooks: registered on the command line, delivered through the outbox to a real HTTP
receiver, verified with the standardwebhooks package."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook as Verifier

from app.cli import main
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.delivery import outbox, webhooks
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.delivery.test_announce import FAST, future_thursday, outbox_rows
from tests.utils.mail import wait_for
from tests.utils.server import free_port

GROUP = "ai-in-cities-wg2"


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every call and answers `status`."""

    def __init__(self, port: int, status: int = 204) -> None:
        self.port = port
        self.status = status
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/u4ssc"


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def add_webhook(capsys: pytest.CaptureFixture[str], url: str, *groups: str) -> str:
    capsys.readouterr()
    args = ["webhook", "add", url, *(x for g in groups for x in ("--group", g))]
    assert main.main(args) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("whsec_"), out
    assert "shown only now" in err
    return secret


@contextmanager
def app_client(database_url: str) -> Iterator[tuple[TestClient, Engine]]:
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, public_base_url=BASE_URL, **FAST
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, app.state.engine


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every call's body, each verified as Standard Webhooks says."""
    bodies = []
    for headers, body in receiver.calls:
        payload = Verifier(secret).verify(body, headers)
        assert json.loads(body) == payload
        bodies.append(payload)
    return bodies


def test_changes_are_delivered_signed_and_verify(
    database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiving(Receiver(free_port())) as receiver:
        secret = add_webhook(capsys, receiver.url)
        other = Receiver(free_port())
        with receiving(other):
            add_webhook(capsys, other.url, "procurement")  # hears nothing of ai-in-cities
            with app_client(database_url) as (client, engine):
                body = {"group": GROUP, "date": future_thursday().isoformat()}
                uid = client.post("/api/meetings", json=body, headers=AUTH).json()["uid"]
                moved = {"date": future_thursday(14).isoformat()}
                assert client.patch(f"/api/meetings/{uid}", json=moved, headers=AUTH).is_success
                assert client.delete(f"/api/meetings/{uid}", headers=AUTH).is_success
                status = {"status": "ongoing", "status_note": "Kicked off"}
                assert client.patch(f"/api/groups/{GROUP}", json=status, headers=AUTH).is_success
                wait_for(lambda: len(receiver.calls) == 4, "four webhook calls")
                wait_for(
                    lambda: all(row.status == outbox.SENT for row in outbox_rows(engine)),
                    "every call marked sent",
                )
                public = client.get(f"/api/meetings/{uid}").json()
                group = client.get(f"/api/groups/{GROUP}").json()
        assert other.calls == []
    events = verified(receiver, secret)
    # Calls are concurrent, so they may arrive in any order: each type once.
    by_type = {e["type"]: e for e in events}
    assert sorted(by_type) == [
        "group.updated",
        "meeting.cancelled",
        "meeting.created",
        "meeting.updated",
    ]
    assert by_type["meeting.cancelled"]["data"] == public
    assert by_type["group.updated"]["data"] == group
    created = by_type["meeting.created"]["data"]
    assert created["uid"] == uid and created["sequence"] == 0
    assert by_type["meeting.updated"]["data"]["date"] == moved["date"]
    assert all(e["timestamp"].endswith("Z") for e in events)
    ids = [headers["webhook-id"] for headers, _ in receiver.calls]
    assert len(set(ids)) == 4
    # A tampered body does not verify.
    first_headers, first_body = receiver.calls[0]
    with pytest.raises(Exception, match="signature"):
        Verifier(secret).verify(first_body.replace(b"meeting", b"meetinG"), first_headers)


def test_a_receiver_that_is_down_gets_the_delivery_later(
    database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = Receiver(free_port())
    secret = add_webhook(capsys, receiver.url, "ai-in-cities")  # the thematic group: its WGs too
    with app_client(database_url) as (client, engine):
        body = {"group": GROUP, "date": future_thursday().isoformat()}
        assert client.post("/api/meetings", json=body, headers=AUTH).status_code == 201
        wait_for(
            lambda: any(row.attempts >= 2 and row.last_error for row in outbox_rows(engine)),
            "failed attempts while the receiver is down",
        )
        with receiving(receiver):
            wait_for(lambda: outbox_rows(engine)[0].status == outbox.SENT, "a later delivery")
        (row,) = outbox_rows(engine)
    assert len(receiver.calls) == 1
    (event,) = verified(receiver, secret)
    assert event["type"] == "meeting.created"
    assert receiver.calls[0][0]["webhook-id"] == row.message_id


def test_a_receiver_answering_410_gets_no_retries(
    database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiving(Receiver(free_port(), status=410)) as receiver:
        add_webhook(capsys, receiver.url)
        with app_client(database_url) as (client, engine):
            body = {"group": GROUP, "date": future_thursday().isoformat()}
            assert client.post("/api/meetings", json=body, headers=AUTH).status_code == 201
            wait_for(lambda: outbox_rows(engine)[0].status == outbox.FAILED, "the 410 to stop it")
            (row,) = outbox_rows(engine)
            assert row.attempts == 1 and row.last_error and "410" in row.last_error
            metrics = client.get("/metrics").text
            assert "u4ssc_outbox_failed_total 1.0" in metrics
            # The sender keeps polling; the message is not tried again.
            client.post("/api/meetings", json={**body, "title": "Second"}, headers=AUTH)
            wait_for(lambda: len(receiver.calls) == 2, "the second message's one call")
            wait_for(lambda: outbox_rows(engine)[1].status == outbox.FAILED, "the second 410")
        assert len(receiver.calls) == 2
        assert [r.attempts for r in outbox_rows(engine)] == [1, 1]


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_receiver_asking_for_patience_is_retried(
    status: int, database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiving(Receiver(free_port(), status=status)) as receiver:
        add_webhook(capsys, receiver.url)
        with app_client(database_url) as (client, engine):
            body = {"group": GROUP, "date": future_thursday().isoformat()}
            assert client.post("/api/meetings", json=body, headers=AUTH).status_code == 201
            wait_for(lambda: len(receiver.calls) >= 2, "a retry")
            receiver.status = 200
            wait_for(lambda: outbox_rows(engine)[0].status == outbox.SENT, "the delivery")


def test_webhook_commands(
    database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = add_webhook(capsys, "https://example.org/hook", "procurement")
    assert main.main(["webhook", "list"]) == 0
    out = capsys.readouterr().out
    assert "https://example.org/hook\tprocurement" in out
    assert secret not in out
    for bad in ("ftp://example.org/hook", "example.org/hook", "javascript:alert(1)"):
        assert main.main(["webhook", "add", bad]) == 1
        assert "url: must be a link starting with http:// or https://" in capsys.readouterr().err
    assert main.main(["webhook", "add", "https://example.org/x", "--group", "nope"]) == 1
    assert "no group 'nope'" in capsys.readouterr().err
    hook_id = out.splitlines()[1].split("\t")[0]
    assert main.main(["webhook", "remove", hook_id]) == 0
    assert main.main(["webhook", "remove", hook_id]) == 1
    assert f"no webhook {hook_id}" in capsys.readouterr().err
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            assert webhooks.list_webhooks(session) == []
    finally:
        engine.dispose()
