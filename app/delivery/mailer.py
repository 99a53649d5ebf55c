"""Delivering mail to the SMTP server that SMTP_URL names, with aiosmtplib."""

from __future__ import annotations

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


async def send(
    server: SmtpServer,
    raw: bytes,
    sender: str,
    recipients: list[str],
    allow_plain_auth: bool = False,
) -> None:
    """Hand one message to the server; PermanentFailure on a 5xx, other errors are transient.
    With credentials, TLS is required (smtps://, or STARTTLS, which then must succeed): a
    server that offers no STARTTLS never sees them, unless `allow_plain_auth` (a trusted relay)
    says otherwise. Without credentials, STARTTLS is used when offered."""
    if server.implicit_tls:
        start_tls: bool | None = False
    elif server.username is not None and not allow_plain_auth:
        start_tls = True  # aiosmtplib refuses a server without STARTTLS before any AUTH
    else:
        start_tls = None
    try:
        await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=recipients,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            start_tls=start_tls,
            timeout=TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPAuthenticationError:
        raise  # the settings are wrong: once they are fixed, the retries get through
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [error.code for error in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(str(exc)) from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500:
            raise PermanentFailure(f"{exc.code} {exc.message}") from exc
        raise
