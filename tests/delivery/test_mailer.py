"""SMTP_URL as the mailer reads it, and a server that refuses a message for good."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.core.config import Settings
from app.delivery import outbox
from app.delivery.mailer import SmtpServer
from app.main import create_app
from tests.conftest import AUTH
from tests.delivery.test_announce import GROUP, future_thursday, mail_settings, outbox_rows
from tests.utils.mail import Inbox, smtp_server, wait_for


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.org", SmtpServer("relay.example.org", 587, None, None, False)),
        (
            "smtp://bot%40itu:p%3Ass@mail.example.org:2525",
            SmtpServer("mail.example.org", 2525, "bot@itu", "p:ss", False),
        ),
        ("smtps://u:p@mail.example.org", SmtpServer("mail.example.org", 465, "u", "p", True)),
    ],
)
def test_smtp_url_names_server_port_credentials_and_tls(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(Settings(smtp_url=url).smtp_url or "") == expected


@pytest.mark.parametrize("url", ["http://mail.example.org", "mail.example.org:25", "smtp://"])
def test_a_bad_smtp_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="SMTP_URL must look like"):
        Settings(smtp_url=url)


def test_a_bad_list_address_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="e-mail address"):
        Settings(announce_to="not an address")


class Refusing(Inbox):
    async def handle_RCPT(
        self, _server: Any, _session: Any, _envelope: Any, _address: str, _options: Any
    ) -> str:
        return "550 5.1.1 no such list"


def test_a_permanent_refusal_is_not_retried(database_url: str) -> None:
    with smtp_server(inbox=Refusing()) as inbox:
        app = create_app(mail_settings(database_url, inbox.port))  # type: ignore[attr-defined]
        with TestClient(app) as client:
            body = {"group": GROUP, "date": future_thursday().isoformat()}
            assert client.post("/api/meetings?announce=true", json=body, headers=AUTH).is_success
            engine = app.state.engine
            wait_for(lambda: outbox_rows(engine)[0].status == outbox.FAILED, "the refusal")
    (row,) = outbox_rows(engine)
    assert row.attempts == 1
    assert "no such list" in (row.last_error or "")
    assert inbox.raw == []
