"""Webhooks for integrators: endpoints, the event payloads, Standard Webhooks signatures and
delivery with httpx.

Signatures follow the Standard Webhooks specification: the secret is `whsec_` and base64 of
random bytes; each call carries `webhook-id` (the outbox message id, the same on every retry),
`webhook-timestamp` (seconds) and `webhook-signature`: `v1,` and base64 of HMAC-SHA256 over
`{id}.{timestamp}.{body}` with the decoded secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

import httpx
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.core import validation
from app.crud import Invalid, NotFound, get_group
from app.models import Webhook, WebhookCreate

SECRET_PREFIX = "whsec_"
TIMEOUT_SECONDS = 15.0
# Answers that mean "try again later"; any other 4xx stops the retries of that message.
RETRYABLE_4XX = {408, 429}

MEETING_CREATED = "meeting.created"
MEETING_UPDATED = "meeting.updated"
MEETING_CANCELLED = "meeting.cancelled"
GROUP_CREATED = "group.created"
GROUP_UPDATED = "group.updated"


class PermanentFailure(Exception):
    """The receiver refused the call for good (a 4xx other than 408 and 429)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def add(session: Session, url: str, groups: Iterable[str] = ()) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its signing secret (shown to the caller once)."""
    try:
        data = WebhookCreate(url=url, groups=list(dict.fromkeys(groups)))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "url"
        raise Invalid(field, validation.message(first)) from None
    for slug in data.groups:
        try:
            get_group(session, slug)
        except NotFound:
            raise Invalid("group", f"no group {slug!r}") from None
    secret = new_secret()
    webhook = Webhook(
        url=data.url,
        groups=data.groups,
        secret=secret,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    session.add(webhook)
    session.commit()
    session.refresh(webhook)
    return webhook, secret


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.exec(select(Webhook).order_by(col(Webhook.id))).all())


def remove(session: Session, webhook_id: int) -> None:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook {webhook_id}")
    session.delete(webhook)
    session.commit()


def set_disabled(session: Session, webhook_id: int, disabled: bool) -> Webhook:
    """Stop sending changes to an endpoint, or start again; calls already queued are made."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook {webhook_id}")
    webhook.disabled = disabled
    session.add(webhook)
    session.commit()
    session.refresh(webhook)
    return webhook


def wants(webhook: Webhook, slugs: set[str]) -> bool:
    """Whether an endpoint gets an event about these groups (a group and its thematic group):
    all of them when it names none."""
    return not webhook.groups or bool(slugs & set(webhook.groups))


def payload(event: str, at: dt.datetime, data: dict[str, Any]) -> str:
    """The JSON body: {"type", "timestamp", "data"}, written once and signed as it is."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    stamp = at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {"type": event, "timestamp": stamp, "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, body: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "content-type": "application/json",
        "user-agent": "u4ssc-calendar webhooks",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    message_id: str,
    body: str,
    max_answer: int = 65_536,
) -> None:
    """POST one event. Returns on 2xx; PermanentFailure on a 4xx other than 408/429; any other
    answer or a transport error raises for a retry. Of the answer at most `max_answer` bytes
    are read, then dropped: a receiver's reply never fills memory. The whole call's deadline is
    the sender's (OUTBOX_CALL_SECONDS); TIMEOUT_SECONDS bounds each read within it."""
    async with client.stream(
        "POST",
        url,
        content=body.encode("utf-8"),
        headers=headers(secret, message_id, body),
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
    ) as response:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= max_answer:
                break
    if 200 <= response.status_code < 300:
        return
    reason = f"the receiver answered {response.status_code}"
    if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX:
        raise PermanentFailure(reason)
    raise httpx.HTTPStatusError(reason, request=response.request, response=response)
