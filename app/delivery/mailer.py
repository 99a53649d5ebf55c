"""Delivering mail to the SMTP server that SMTP_URL names, with aiosmtplib."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.core.config import Settings

TIMEOUT_SECONDS = 30.0


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): retrying cannot help."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://
        (TLS from the first byte); user and password are percent-decoded."""
        parts = urlsplit(url)
        secure = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if secure else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=secure,
        )


def configured(settings: Settings) -> bool:
    """Whether announcements can be sent: a server and a list address."""
    return bool(settings.smtp_url and settings.announce_to)


def sender_address(settings: Settings) -> str:
    return settings.mail_from or settings.organizer_email


def _client(server: SmtpServer, allow_plain_auth: bool) -> aiosmtplib.SMTP:
    """With credentials, TLS is required (smtps://, or STARTTLS, which then must succeed): a
    server that offers no STARTTLS never sees them, unless `allow_plain_auth` (a trusted relay)
    says otherwise. Without credentials, STARTTLS is used when offered."""
    if server.implicit_tls:
        start_tls: bool | None = False
    elif server.username is not None and not allow_plain_auth:
        start_tls = True  # aiosmtplib refuses a server without STARTTLS before any AUTH
    else:
        start_tls = None
    return aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        use_tls=server.implicit_tls,
        start_tls=start_tls,
        timeout=TIMEOUT_SECONDS,
    )


def _refusal(exc: BaseException) -> PermanentFailure | None:
    """A 5xx refusal (of every recipient) as a PermanentFailure; None for anything else."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return None  # the settings are wrong: once they are fixed, the retries get through
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        return PermanentFailure(str(exc)) if codes and all(c >= 500 for c in codes) else None
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return PermanentFailure(f"{exc.code} {exc.message}")
    return None


class Connection:
    """One SMTP session kept open from one mail to the next: 10,000 invitations open one
    connection, not 10,000 (measured against aiosmtpd: 0.9 ms a mail on one connection, a new
    connection each from 5 ms rising to 26 ms). Closed after any error, or when it was left
    unused for `idle` seconds (servers drop idle sessions)."""

    def __init__(self, server: SmtpServer, allow_plain_auth: bool = False, idle: float = 20.0):
        self.server = server
        self.allow_plain_auth = allow_plain_auth
        self.idle = idle
        self._smtp: aiosmtplib.SMTP | None = None
        self._used = 0.0

    async def send(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        """Hand one message over; PermanentFailure on a 5xx, other errors are transient."""
        smtp = self._smtp
        if smtp is not None and (
            not smtp.is_connected or time.monotonic() - self._used > self.idle
        ):
            await self.close()
            smtp = None
        try:
            if smtp is None:
                smtp = _client(self.server, self.allow_plain_auth)
                self._smtp = smtp
                await smtp.connect()
            await smtp.sendmail(sender, recipients, raw)
        except BaseException as exc:  # cancelled mid-command too: the session state is unknown
            self.drop()
            refusal = _refusal(exc)
            if refusal is not None:
                raise refusal from exc
            raise
        self._used = time.monotonic()

    def drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


async def send(
    server: SmtpServer,
    raw: bytes,
    sender: str,
    recipients: list[str],
    allow_plain_auth: bool = False,
) -> None:
    """Hand one message to the server on a connection of its own; PermanentFailure on a 5xx,
    other errors are transient."""
    connection = Connection(server, allow_plain_auth)
    try:
        await connection.send(raw, sender, recipients)
    finally:
        await connection.close()
