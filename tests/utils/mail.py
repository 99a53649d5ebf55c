"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, in this process) and a way to wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller

from tests.utils.server import free_port

WAIT_DEADLINE = 60.0
LIST = "u4ssc-list@example.org"


class Inbox:
    """What the server was handed: each message as the email package parses it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.raw: list[bytes] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self._lock:
            self.raw.append(bytes(envelope.original_content or envelope.content))
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self.raw)
        return [message_from_bytes(r, policy=policy.default) for r in raw]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@contextmanager
def smtp_server(port: int | None = None, inbox: Inbox | None = None) -> Iterator[Inbox]:
    """aiosmtpd listening on 127.0.0.1:`port` until the block ends."""
    inbox = inbox or Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        inbox.port = controller.port  # type: ignore[attr-defined]
        yield inbox
    finally:
        controller.stop()


def wait_for(check: Callable[[], bool], what: str, deadline: float = WAIT_DEADLINE) -> None:
    """Poll `check` until it holds: a deadline for a background delivery, not a timing claim."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def calendar_part(message: EmailMessage) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            assert part.get_param("method") == "PUBLISH", part["Content-Type"]
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no text/calendar part")


def text_part(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, "no text/plain part"
    return str(cast(EmailMessage, body).get_content())
