"""The sender: claims due outbox messages and delivers them (mail over SMTP, webhook calls),
as a background task of the server or once from the command line."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.delivery import fanout, invitations, mailer, outbox, webhooks
from app.models import Webhook

log = logging.getLogger("u4ssc.sender")
FAN_OUT_PAUSE = 0.02  # seconds between two batches of a fan-out


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
    # The SMTP session kept between mails (one mail in flight per process).
    smtp: mailer.Connection | None = None

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Sender:
        return cls(engine, settings, outbox.Policy.from_settings(settings))

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Deliver every message due now, channel by channel; how many were attempted."""
        running: dict[str, asyncio.Task[None]] = {}
        attempted = await self._start_due(client, running)
        while running:
            await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
            attempted += await self._start_due(client, running)
        return attempted

    async def drain(self) -> int:
        """`u4ssc-calendar outbox run`: one pass over what is due, then stop."""
        async with httpx.AsyncClient() as client:
            try:
                return await self.run_once(client)
            finally:
                await self._close_smtp()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The server's background task: claim what is due on channels not busy, deliver each
        in a task of its own, repeat until `stop` is set."""
        log.info("outbox sender %s started", self.worker)
        running: dict[str, asyncio.Task[None]] = {}
        async with httpx.AsyncClient() as client:
            stopping = asyncio.ensure_future(stop.wait())
            try:
                while not stop.is_set():
                    try:
                        await self._start_due(client, running)
                    except Exception:  # the store may be away for a while: keep trying
                        log.exception("outbox sender: a pass failed; trying again")
                    # Wake on the poll interval, a delivery done (its channel is free) or stop.
                    await asyncio.wait(
                        [stopping, *running.values()],
                        timeout=self.settings.outbox_poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
            finally:
                stopping.cancel()
                for task in running.values():
                    task.cancel()  # its lease runs out; another pass sends it again
                await asyncio.gather(*running.values(), return_exceptions=True)
                await self._close_smtp()

    async def _start_due(
        self, client: httpx.AsyncClient, running: dict[str, asyncio.Task[None]]
    ) -> int:
        """Claim due messages of the channels with nothing in flight, each delivered in a task."""
        for key in [key for key, task in running.items() if task.done()]:
            del running[key]
        free = self.settings.outbox_concurrency - len(running)
        if free <= 0:
            return 0
        busy = frozenset(running)
        claimed = await asyncio.to_thread(
            outbox.claim, self.engine, self.worker, self.policy, free, busy
        )
        for message in claimed:
            key = outbox.channel(message.kind, message.webhook_id)
            running[key] = asyncio.create_task(self._deliver(client, message))
        return len(claimed)

    async def _deliver(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        started = time.monotonic()
        try:
            await self._attempt(client, message)
        finally:
            if message.kind == outbox.MAIL:
                # MAIL_PER_SECOND: the mail channel stays busy until the next mail may start.
                pause = 1 / self.settings.mail_per_second - (time.monotonic() - started)
                if pause > 0:
                    await asyncio.sleep(pause)

    async def _attempt(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        permanent = False
        keeper = asyncio.create_task(self._keep_lease(message))
        try:
            if message.kind == outbox.FANOUT:
                await self._fan_out(message)
            else:
                async with asyncio.timeout(self.settings.outbox_call_seconds):
                    await self._call(client, message)
        except (mailer.PermanentFailure, webhooks.PermanentFailure) as exc:
            error, permanent = str(exc) or type(exc).__name__, True
        except TimeoutError:
            error = f"no complete answer within {self.settings.outbox_call_seconds:g} s"
        except Exception as exc:  # any failure of one delivery: retried later
            error = f"{type(exc).__name__}: {exc}".strip()
        else:
            keeper.cancel()
            await asyncio.to_thread(outbox.mark_sent, self.engine, message)
            self.stats.sent += 1
            log.info("outbox: delivered %s %s", message.kind, message.message_id)
            if _invitation(message):
                await asyncio.to_thread(fanout.delivered, self.engine, message.target)
            return
        finally:
            keeper.cancel()
        self.stats.attempt_failures += 1
        if _invitation(message) or message.event == invitations.CONFIRM_EVENT:
            # A subscriber's address stays out of the outbox's errors, the log and the console.
            error = error.replace(message.target, "<subscriber>")
        gave_up = await asyncio.to_thread(
            outbox.mark_failed, self.engine, message, error, self.policy, permanent=permanent
        )
        if gave_up:
            self.stats.failed += 1
        if permanent and _invitation(message):
            limit = self.settings.invitation_refusals
            if await asyncio.to_thread(fanout.refused, self.engine, message.target, limit):
                self.stats.stopped_addresses += 1
                log.warning("outbox: an address refused %d invitations in a row: stopped", limit)

    async def _close_smtp(self) -> None:
        if self.smtp is not None:
            await self.smtp.close()
            self.smtp = None

    async def _call(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        if message.kind == outbox.MAIL:
            await self._send_mail(message)
        elif message.kind == outbox.WEBHOOK:
            await self._call_webhook(client, message)
        else:
            raise webhooks.PermanentFailure(f"unknown kind {message.kind!r}")

    async def _fan_out(self, message: outbox.Claimed) -> None:
        """Local work in batches, each committed with its cursor: no call deadline; a stop
        between batches leaves the rest to the next sender. The pause between batches lets a
        waiting write take SQLite's lock (its busy handler polls; the next batch would win)."""
        while not await asyncio.to_thread(fanout.step, self.engine, self.settings, message.id):
            await asyncio.sleep(FAN_OUT_PAUSE)

    async def _keep_lease(self, message: outbox.Claimed) -> None:
        """While a delivery runs, its lease is renewed at a third of its length: a slow call is
        never taken up by another sender at the same time."""
        every = max(0.5, self.policy.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(every)
            await asyncio.to_thread(outbox.renew, self.engine, self.worker, message, self.policy)

    async def _send_mail(self, message: outbox.Claimed) -> None:
        if not self.settings.smtp_url:
            raise RuntimeError("SMTP_URL is not set")
        if self.smtp is None:
            server = mailer.SmtpServer.from_url(self.settings.smtp_url)
            self.smtp = mailer.Connection(server, self.settings.smtp_allow_plain_auth)
        recipients = [address.strip() for address in message.target.split(",")]
        text = await asyncio.to_thread(fanout.mail_text, self.engine, self.settings, message)
        raw = text.encode("utf-8")
        await self.smtp.send(raw, mailer.sender_address(self.settings), recipients)

    async def _call_webhook(self, client: httpx.AsyncClient, message: outbox.Claimed) -> None:
        secret = await asyncio.to_thread(self._secret, message.webhook_id)
        if secret is None:
            raise webhooks.PermanentFailure("the webhook was removed")
        await webhooks.deliver(
            client,
            message.target,
            secret,
            message.message_id,
            message.payload,
            self.settings.outbox_response_bytes,
        )

    def _secret(self, webhook_id: int | None) -> str | None:
        if webhook_id is None:
            return None
        with Session(self.engine) as session:
            hook = session.get(Webhook, webhook_id)
            return hook.secret if hook is not None else None


def _invitation(message: outbox.Claimed) -> bool:
    return message.kind == outbox.MAIL and message.event.startswith(invitations.INVITE_EVENT)
