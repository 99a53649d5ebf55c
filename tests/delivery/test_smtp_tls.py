"""SMTP credentials never cross the wire in clear (issue 21): against a real server that offers
AUTH without STARTTLS, the mailer refuses to authenticate, unless the operator said the relay is
trusted (SMTP_ALLOW_PLAIN_AUTH)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.delivery import mailer
from tests.utils.mail import Inbox
from tests.utils.server import free_port

RAW = b"From: u4ssc@itu.int\r\nTo: list@example.org\r\nSubject: hello\r\n\r\nhello\r\n"


class Authenticator:
    def __init__(self) -> None:
        self.attempts: list[tuple[str, bytes]] = []

    def __call__(
        self, _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.attempts.append((mechanism, data.password))
        return AuthResult(success=data.password == b"app-password")


def _server(inbox: Inbox, auth: Authenticator) -> Controller:
    # AUTH offered over a plain connection, and no STARTTLS: a downgraded or careless relay.
    return Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=auth,
        auth_require_tls=False,
    )


def test_credentials_are_never_sent_to_a_server_without_starttls() -> None:
    inbox, auth = Inbox(), Authenticator()
    controller = _server(inbox, auth)
    controller.start()
    try:
        server = mailer.SmtpServer.from_url(f"smtp://bot:app-password@127.0.0.1:{controller.port}")
        with pytest.raises(Exception) as refused:
            asyncio.run(mailer.send(server, RAW, "u4ssc@itu.int", ["list@example.org"]))
    finally:
        controller.stop()
    assert "STARTTLS" in str(refused.value) or "TLS" in str(refused.value), refused.value
    assert auth.attempts == []
    assert inbox.raw == []


def test_a_trusted_relay_may_take_plain_auth_when_the_operator_says_so() -> None:
    inbox, auth = Inbox(), Authenticator()
    controller = _server(inbox, auth)
    controller.start()
    try:
        server = mailer.SmtpServer.from_url(f"smtp://bot:app-password@127.0.0.1:{controller.port}")
        asyncio.run(
            mailer.send(server, RAW, "u4ssc@itu.int", ["list@example.org"], allow_plain_auth=True)
        )
    finally:
        controller.stop()
    assert [mechanism for mechanism, _ in auth.attempts] in (["PLAIN"], ["LOGIN"])
    assert len(inbox.raw) == 1


def test_without_credentials_mail_goes_through_a_plain_relay() -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        server = mailer.SmtpServer.from_url(f"smtp://127.0.0.1:{controller.port}")
        asyncio.run(mailer.send(server, RAW, "u4ssc@itu.int", ["list@example.org"]))
    finally:
        controller.stop()
    assert len(inbox.raw) == 1
