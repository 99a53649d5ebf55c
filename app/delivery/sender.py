"""The sender: claims due outbox messages and delivers them (mail over SMTP, webhook calls),
as a background task of the server or once from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.delivery import mailer, outbox, webhooks
from app.models import Webhook

log = logging.getLogger("u4ssc.sender")


def worker_name() -> str:
    """Who holds a lease: host, process and a random part, unique among replicas."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Sender:
    engine: Engine
    settings: Settings
    policy: outbox.Policy
    stats: outbox.Stats = field(default_factory=outbox.Stats)
    worker: str = field(default_factory=worker_name)
    batch: int = 20

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Sender:
        return cls(engine, settings, outbox.Policy.from_settings(settings))

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Deliver every message due now, batch after batch; how many were attempted."""
        attempted = 0
        while True:
            claimed = await asyncio.to_thread(outbox.claim, self.engine, self.worker, self.policy)
            if not claimed:
                return attempted
            attempted += len(claimed)
            await asyncio.gather(*(self._deliver(client, message) for message in claimed))

    async def drain(self) -> int:
        """`u4ssc-calendar outbox run`: one pass over what is due, then stop."""
        async with httpx.AsyncClient() as client:
            return await self.run_once(client)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The server's background task: poll, deliver, repeat until `stop` is set."""
        log.info("outbox sender %s started", self.worker)
        async with httpx.AsyncClient() as client:
            while not stop.is_set():
                try:
                    await self.run_once(client)
                except Exception:  # the store may be away for a while: keep trying
                    log.exception("outbox sender: a pass failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.outbox_poll_seconds)

    async def _deliver(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        permanent = False
        try:
            if message.kind == outbox.MAIL:
                await self._send_mail(message)
            elif message.kind == outbox.WEBHOOK:
                await self._call_webhook(client, message)
            else:
                raise webhooks.PermanentFailure(f"unknown kind {message.kind!r}")
        except (mailer.PermanentFailure, webhooks.PermanentFailure) as exc:
            error, permanent = str(exc) or type(exc).__name__, True
        except Exception as exc:  # any failure of one delivery: retried later
            error = f"{type(exc).__name__}: {exc}".strip()
        else:
            await asyncio.to_thread(outbox.mark_sent, self.engine, message)
            self.stats.sent += 1
            log.info("outbox: delivered %s %s", message.kind, message.message_id)
            return
        self.stats.attempt_failures += 1
        gave_up = await asyncio.to_thread(
            outbox.mark_failed, self.engine, message, error, self.policy, permanent=permanent
        )
        if gave_up:
            self.stats.failed += 1

    async def _send_mail(self, message: outbox.Claimed) -> None:
        if not self.settings.smtp_url:
            raise RuntimeError("SMTP_URL is not set")
        server = mailer.SmtpServer.from_url(self.settings.smtp_url)
        recipients = [address.strip() for address in message.target.split(",")]
        raw = message.payload.encode("utf-8")
        await mailer.send(server, raw, mailer.sender_address(self.settings), recipients)

    async def _call_webhook(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        secret = await asyncio.to_thread(self._secret, message.webhook_id)
        if secret is None:
            raise webhooks.PermanentFailure("the webhook was removed")
        await webhooks.deliver(client, message.target, secret, message.message_id, message.payload)

    def _secret(self, webhook_id: int | None) -> str | None:
        if webhook_id is None:
            return None
        with Session(self.engine) as session:
            hook = session.get(Webhook, webhook_id)
            return hook.secret if hook is not None else None
