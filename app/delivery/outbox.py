"""The outbox: messages written with their change, claimed by one sender at a time, retried with
exponential backoff until delivered or given up.

A message is written in the transaction of its change (app.delivery.notify), so a committed change's
messages are never lost and an aborted one leaves none. A sender claims due messages by setting
`claimed_by` and a lease in one short transaction: on PostgreSQL the rows are locked with
`FOR UPDATE SKIP LOCKED`, so replicas claiming together take different rows; SQLite's
`BEGIN IMMEDIATE` lets one writer claim at a time. A sender that dies mid-delivery leaves its
lease to run out; the message is then sent again under the same `message_id`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_session
from app.crud import NotFound
from app.models import OutboxMessage

log = logging.getLogger("u4ssc.outbox")

MAIL = "mail"
WEBHOOK = "webhook"
FANOUT = "fanout"  # one change to write as a mail per subscriber (app.delivery.fanout)
PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Policy:
    """When to try again: `first_retry` seconds after the first failure, doubling up to
    `max_retry`, until `give_up` after the message was written."""

    first_retry: float = 10.0
    max_retry: float = 3600.0
    give_up: dt.timedelta = dt.timedelta(days=3)
    lease: dt.timedelta = dt.timedelta(seconds=120)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            first_retry=settings.outbox_retry_seconds,
            give_up=dt.timedelta(hours=settings.outbox_give_up_hours),
            lease=dt.timedelta(seconds=settings.outbox_lease_seconds),
        )

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.first_retry * 2 ** max(attempts - 1, 0), self.max_retry))


@dataclass(frozen=True)
class Claimed:
    """A message a sender holds the lease of, as plain values (no session needed)."""

    id: int
    message_id: str
    kind: str
    target: str
    webhook_id: int | None
    event: str
    payload: str
    attempts: int
    expires_at: dt.datetime


@dataclass
class Stats:
    """What one process's sender did, for the metrics."""

    sent: int = 0
    attempt_failures: int = 0
    failed: int = 0
    stopped_addresses: int = 0  # addresses whose invitations stopped after refusals


def new_message_id() -> str:
    return uuid.uuid4().hex


def enqueue(
    session: Session,
    kind: str,
    target: str,
    event: str,
    payload: str,
    policy: Policy,
    *,
    message_id: str | None = None,
    webhook_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the session's transaction: it exists exactly if that commits."""
    stamp = utcnow()
    message = OutboxMessage(
        message_id=message_id or new_message_id(),
        kind=kind,
        target=target,
        webhook_id=webhook_id,
        event=event,
        payload=payload,
        next_attempt_at=stamp,
        expires_at=stamp + policy.give_up,
        created_at=stamp,
    )
    session.add(message)
    return message


def _due(now: dt.datetime) -> list[Any]:
    return [
        col(OutboxMessage.status) == PENDING,
        col(OutboxMessage.next_attempt_at) <= now,
        or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now),
    ]


def channel(kind: str, webhook_id: int | None) -> str:
    """Where a message goes: the SMTP server ("mail") or one webhook endpoint. A sender has at
    most one delivery in flight per channel, so a stuck receiver delays only its own messages."""
    return kind if kind in (MAIL, FANOUT) else f"{WEBHOOK}:{webhook_id}"


def _not_busy(busy: frozenset[str]) -> list[Any]:
    conditions: list[Any] = [
        col(OutboxMessage.kind) != kind for kind in (MAIL, FANOUT) if kind in busy
    ]
    hooks = [int(key.split(":", 1)[1]) for key in busy if key.startswith(f"{WEBHOOK}:")]
    if hooks:
        conditions.append(
            or_(
                col(OutboxMessage.webhook_id).is_(None),
                col(OutboxMessage.webhook_id).not_in(hooks),
            )
        )
    return conditions


def claim(
    engine: Engine,
    worker: str,
    policy: Policy,
    limit: int = 20,
    busy: frozenset[str] = frozenset(),
) -> list[Claimed]:
    """Take the lease of up to `limit` due messages, the oldest of each channel not in `busy`;
    none are taken by another sender."""
    now = utcnow()
    due = [*_due(now), *_not_busy(busy)]
    with Session(engine) as peek:
        # A cheap read first: most polls find nothing and need no write lock.
        if peek.exec(select(OutboxMessage.id).where(*due).limit(1)).first() is None:
            return []
    with write_session(engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(*due)
            .order_by(col(OutboxMessage.id))
            .limit(limit * 4)
            .with_for_update(skip_locked=True)
        ).all()
        claimed: list[Claimed] = []
        taken: set[str] = set()
        for row in rows:
            assert row.id is not None
            key = channel(row.kind, row.webhook_id)
            if key in taken or len(claimed) >= limit:
                continue  # one per channel: the next is claimed when this one is done
            taken.add(key)
            row.claimed_by = worker
            row.lease_until = now + policy.lease
            row.attempts += 1
            session.add(row)
            claimed.append(
                Claimed(
                    row.id,
                    row.message_id,
                    row.kind,
                    row.target,
                    row.webhook_id,
                    row.event,
                    row.payload,
                    row.attempts,
                    row.expires_at,
                )
            )
    return claimed


def renew(engine: Engine, worker: str, message: Claimed, policy: Policy) -> bool:
    """Extend the lease of a message still being delivered; False if it is no longer ours."""
    with write_session(engine) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id, col(OutboxMessage.claimed_by) == worker)
            .values(lease_until=utcnow() + policy.lease)
        )
        return bool(getattr(result, "rowcount", 0))


def mark_sent(engine: Engine, message: Claimed) -> None:
    with write_session(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .values(status=SENT, sent_at=utcnow(), lease_until=None, last_error=None)
        )


def mark_failed(
    engine: Engine, message: Claimed, error: str, policy: Policy, *, permanent: bool = False
) -> bool:
    """Record a failed attempt: try again later, or give up (True) when the failure is final
    or the message is too old."""
    now = utcnow()
    expires = message.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    give_up = permanent or now >= expires
    values: dict[str, object] = {"lease_until": None, "last_error": error[:500]}
    if give_up:
        values["status"] = FAILED
        log.warning(
            "outbox: gave up on %s %s (%s) after %d attempt(s): %s",
            message.kind,
            message.message_id,
            message.event,
            message.attempts,
            error,
        )
    else:
        retry_at = min(now + dt.timedelta(seconds=policy.delay(message.attempts)), expires)
        values["next_attempt_at"] = retry_at
        log.warning(
            "outbox: %s %s failed (attempt %d), next try at %s: %s",
            message.kind,
            message.message_id,
            message.attempts,
            retry_at.isoformat(timespec="seconds"),
            error,
        )
    with write_session(engine) as session:
        session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(**values)
        )
    return give_up


def list_messages(session: Session, limit: int = 50) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
        ).all()
    )


def retry(session: Session, key: str, policy: Policy) -> OutboxMessage:
    """Send a message again as soon as a sender runs: a failed one, or a pending one now."""
    statement = select(OutboxMessage).where(
        (col(OutboxMessage.id) == int(key))
        if key.isdigit()
        else (col(OutboxMessage.message_id) == key)
    )
    message = session.exec(statement).first()
    if message is None:
        raise NotFound(f"no outbox message {key!r}")
    now = utcnow()
    message.status = PENDING
    message.next_attempt_at = now
    message.expires_at = now + policy.give_up
    message.lease_until = None
    session.add(message)
    session.commit()
    session.refresh(message)
    return message


def pending_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.status) == PENDING)
            ).one()
        )


@dataclass(eq=False)
class OutboxCollector(Collector):
    """u4ssc_outbox_pending (from the store, at scrape time) and this process's counters."""

    engine: Engine
    stats: Stats = field(default_factory=Stats)

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "u4ssc_outbox_pending", "Outbox messages not yet delivered (all processes)."
        )
        try:
            gauge.add_metric([], float(pending_count(self.engine)))
        except Exception:  # a scrape must not fail because the store is away
            log.warning("outbox: cannot count pending messages", exc_info=True)
            gauge.add_metric([], float("nan"))
        yield gauge
        for name, help_text, value in (
            ("u4ssc_outbox_sent", "Outbox messages delivered by this process.", self.stats.sent),
            (
                "u4ssc_outbox_attempt_failures",
                "Delivery attempts that failed and will be retried or given up.",
                self.stats.attempt_failures,
            ),
            (
                "u4ssc_outbox_failed",
                "Outbox messages given up by this process (too old, or refused for good).",
                self.stats.failed,
            ),
            (
                "u4ssc_invitations_stopped_addresses",
                "Addresses whose invitations this process stopped: refused (5xx) too often.",
                self.stats.stopped_addresses,
            ),
        ):
            counter = CounterMetricFamily(name, help_text)
            counter.add_metric([], float(value))
            yield counter
