"""Invitations as subscribers receive them: subscribing and confirming through the routes, and
each invitation's calendar part read by icalendar, ical.js and vobject (and ical), which must
agree, with its METHOD, ORGANIZER and ATTENDEE checked."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import icalendar
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.core.db import write_session
from app.models import Group, Subscriber, SubscriberGroup
from tests.ical_parsers import ParsedEvent, parse_ical, parse_icalendar, parse_icaljs, parse_vobject
from tests.utils.feeds import assert_lines_well_formed
from tests.utils.mail import Inbox, text_part, wait_for

MAIL_FROM = "u4ssc@itu.int"
_CONFIRM = re.compile(r"(https?://\S+/subscriptions/confirm\?token=)(\S+)")


@dataclass(frozen=True)
class Invite:
    method: str
    event: ParsedEvent
    to: str
    subject: str
    unsubscribe: str


def to(inbox: Inbox, address: str) -> list[EmailMessage]:
    return [m for m in inbox.messages if m["To"] == address]


def confirmation_token(message: EmailMessage) -> str:
    found = _CONFIRM.search(text_part(message))
    assert found, text_part(message)
    return found.group(2)


def subscribe(client: TestClient, inbox: Inbox, email: str, groups: list[str]) -> str:
    """Subscribe `email`; the token of the confirmation mail it gets."""
    before = len(to(inbox, email))
    body: dict[str, Any] = {"email": email, "groups": groups, "language": "en"}
    answer = client.post("/api/subscriptions", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json() == body
    wait_for(lambda: len(to(inbox, email)) > before, f"the confirmation mail to {email}")
    message = to(inbox, email)[-1]
    assert message["Subject"] == "Confirm: U4SSC meeting invitations by email"
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return confirmation_token(message)


def confirm(client: TestClient, token: str) -> str:
    """POST the confirmation as the page's button does; the manage token of the answer."""
    page = client.post("/subscriptions/confirm", data={"token": token})
    assert page.status_code == 200, page.text
    found = re.search(r"/subscriptions/manage\?token=([^\"&]+)", page.text)
    assert found
    return found.group(1)


def read_invite(message: EmailMessage) -> Invite:
    """The invitation in `message`, its calendar read by four parsers that must agree."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, message["Subject"]
    assert message.get_body(("plain",)) is not None
    part = parts[0]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert_lines_well_formed(data)
    (event,) = parse_icalendar(data)
    assert parse_ical(data) == [event]
    assert parse_icaljs(data) == [event]
    assert parse_vobject(data) == [event]
    calendar = icalendar.Calendar.from_ical(data)
    method = str(calendar["METHOD"])
    assert part.get_param("method") == method, part["Content-Type"]
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["ORGANIZER"]) == f"mailto:{MAIL_FROM}"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == f"mailto:{message['To']}"
    assert attendee.params["RSVP"] == "FALSE"
    unsubscribe = str(message["List-Unsubscribe"])
    assert re.fullmatch(r"<https://\S+/subscriptions/unsubscribe\?token=\S+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return Invite(method, event, str(message["To"]), str(message["Subject"]), unsubscribe[1:-1])


def has_calendar(message: EmailMessage) -> bool:
    """An invitation, not a confirmation (which has no calendar part, in any language)."""
    return any(part.get_content_type() == "text/calendar" for part in message.walk())


def invites(inbox: Inbox, address: str) -> list[Invite]:
    return [read_invite(m) for m in to(inbox, address) if has_calendar(m)]


def add_confirmed(engine: Engine, count: int, group: str, domain: str = "example.net") -> list[str]:
    """`count` subscribers who consented, following `group`, written straight to the store."""
    addresses = [f"person{n:05d}@{domain}" for n in range(count)]
    stamp = dt.datetime.now(dt.UTC)
    with write_session(engine) as session:
        group_id = session.exec(select(Group.id).where(Group.slug == group)).one()
        rows = [
            Subscriber(email=a, consented_at=stamp, manage_token=secrets.token_urlsafe(32))
            for a in addresses
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(
            SubscriberGroup(subscriber_id=row.id, group_id=group_id)
            for row in rows
            if row.id is not None and group_id is not None
        )
    return addresses
