"""Invitations by email, the whole lifecycle against a real SMTP server (aiosmtpd) and a real
store: subscribe, consent by POST only, invitations to upcoming meetings, REQUEST on create and
on reschedule (SEQUENCE higher), CANCEL on cancel, one-click unsubscribe; every invitation read
by icalendar, ical.js, vobject and ical."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.delivery import outbox
from app.main import create_app
from app.models import Subscriber
from tests.conftest import AUTH
from tests.delivery.test_announce import GROUP, future_thursday, mail_settings, outbox_rows
from tests.utils.invites import add_confirmed, confirm, invites, read_invite, subscribe, to
from tests.utils.mail import Inbox, smtp_server, wait_for

THEMATIC = "ai-in-cities"
OTHER = "procurement-wg1"


def invite_settings(database_url: str, port: int, **more: Any) -> Settings:
    return mail_settings(database_url, port).model_copy(update={"mail_per_second": 1000.0, **more})


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mail_app(database_url: str, inbox: Inbox) -> Iterator[tuple[TestClient, Engine]]:
    app = create_app(invite_settings(database_url, inbox.port))  # type: ignore[attr-defined]
    with TestClient(app) as client:
        yield client, app.state.engine


def settled(engine: Engine) -> bool:
    return all(row.status != outbox.PENDING for row in outbox_rows(engine))


def add_meeting(client: TestClient, group: str, weeks: int, **more: Any) -> str:
    body = {"group": group, "date": future_thursday(weeks).isoformat()}
    body |= {"start_time": "16:00", "end_time": "17:00", **more}
    created = client.post("/api/meetings", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    return str(created.json()["uid"])


def uid_of(uid: str) -> str:
    return f"{uid}@u4ssc.itu.int"


def test_the_whole_lifecycle(mail_app: tuple[TestClient, Engine], inbox: Inbox) -> None:
    client, engine = mail_app
    before = add_meeting(client, GROUP, 10)  # a working group of THEMATIC, already planned
    elsewhere = add_meeting(client, OTHER, 11)
    past = client.post(
        "/api/meetings", json={"group": GROUP, "date": "2024-01-11"}, headers=AUTH
    ).json()["uid"]
    ann, carol = "ann@example.org", "carol@example.org"
    token = subscribe(client, inbox, ann, [THEMATIC])
    subscribe(client, inbox, carol, [GROUP])  # never confirms

    # Opening the link shows a button; it confirms nothing (mail scanners open links).
    page = client.get(f"/subscriptions/confirm?token={token}")
    assert page.status_code == 200 and 'method="post"' in page.text
    add_meeting(client, GROUP, 12)
    wait_for(lambda: settled(engine), "the outbox settled")
    assert invites(inbox, ann) == [] and invites(inbox, carol) == []

    # The POST consents: an invitation to each upcoming meeting of the thematic group and its
    # working groups, none of other groups, none of the past.
    confirm(client, token)
    assert client.post("/subscriptions/confirm", data={"token": token}).status_code == 404
    wait_for(lambda: len(invites(inbox, ann)) == 2, "the invitations to upcoming meetings")
    first = invites(inbox, ann)
    assert {i.method for i in first} == {"REQUEST"}
    uids = {i.event.uid for i in first}
    assert uid_of(before) in uids and uid_of(elsewhere) not in uids and uid_of(past) not in uids

    # A new meeting: REQUEST, the feed's UID and SEQUENCE.
    uid = add_meeting(client, GROUP, 14, title="Kick-off")
    wait_for(lambda: len(invites(inbox, ann)) == 3, "the invitation to a new meeting")
    created = invites(inbox, ann)[-1]
    feed = client.get(f"/meetings/{uid}.ics").text
    assert created.method == "REQUEST" and created.event.uid == uid_of(uid)
    assert f"SEQUENCE:{created.event.sequence}" in feed
    assert created.subject.startswith("Invitation: ")

    # Moved: REQUEST with a higher SEQUENCE, same UID.
    moved = client.patch(
        f"/api/meetings/{uid}", json={"date": future_thursday(15).isoformat()}, headers=AUTH
    )
    assert moved.status_code == 200, moved.text
    wait_for(lambda: len(invites(inbox, ann)) == 4, "the invitation to the moved meeting")
    again = invites(inbox, ann)[-1]
    assert again.method == "REQUEST" and again.event.uid == created.event.uid
    assert again.event.sequence > created.event.sequence
    assert again.event.start != created.event.start
    assert again.subject.startswith("Rescheduled: ")

    # Cancelled: CANCEL, STATUS:CANCELLED, a higher SEQUENCE still.
    assert client.delete(f"/api/meetings/{uid}", headers=AUTH).status_code == 200
    wait_for(lambda: len(invites(inbox, ann)) == 5, "the cancellation")
    cancel = invites(inbox, ann)[-1]
    assert cancel.method == "CANCEL" and cancel.event.uid == created.event.uid
    assert cancel.event.status == "CANCELLED" and cancel.event.sequence > again.event.sequence

    # The unconfirmed address got its confirmation and nothing else.
    assert [m["Subject"] for m in to(inbox, carol)] == [
        "Confirm: U4SSC meeting invitations by email"
    ]

    # RFC 8058 one-click: a POST to the List-Unsubscribe URL, then nothing more.
    one_click = httpx.URL(cancel.unsubscribe)
    left = client.post(
        f"{one_click.path}?{one_click.query.decode()}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert left.status_code == 200
    with Session(engine) as session:
        assert session.exec(select(Subscriber).where(Subscriber.email == ann)).first() is None
    count = len(to(inbox, ann))
    add_meeting(client, GROUP, 16)
    add_meeting(client, THEMATIC, 17)
    wait_for(lambda: settled(engine), "the outbox settled")
    assert len(to(inbox, ann)) == count


def test_a_working_group_created_later_is_followed_too(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    confirm(client, subscribe(client, inbox, "dan@example.org", [THEMATIC]))
    group = {"slug": "ai-in-cities-wg9", "kind": "working", "code": "WG9"}
    group |= {"name": "Later working group", "parent": THEMATIC, "status": "ongoing"}
    made = client.post("/api/groups", json=group, headers=AUTH)
    assert made.status_code == 201, made.text
    uid = add_meeting(client, "ai-in-cities-wg9", 12)
    wait_for(lambda: len(invites(inbox, "dan@example.org")) == 1, "the new group's meeting")
    assert invites(inbox, "dan@example.org")[0].event.uid == uid_of(uid)
    wait_for(lambda: settled(engine), "the outbox settled")


def test_a_change_within_48_hours_says_so(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, _ = mail_app
    confirm(client, subscribe(client, inbox, "eve@example.org", [GROUP]))
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    body = {"group": GROUP, "date": tomorrow.isoformat(), "start_time": "16:00"}
    body["end_time"] = "17:00"
    uid = client.post("/api/meetings", json=body, headers=AUTH).json()["uid"]
    patch = {"start_time": "15:00", "end_time": "16:00"}
    assert client.patch(f"/api/meetings/{uid}", json=patch, headers=AUTH).status_code == 200
    wait_for(lambda: len(invites(inbox, "eve@example.org")) == 2, "two invitations")
    created, moved = invites(inbox, "eve@example.org")
    assert not created.subject.startswith("Changed within 48 hours")
    assert moved.subject.startswith("Changed within 48 hours: Rescheduled: ")


def test_the_manage_page_changes_groups_and_leaves(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    uid = add_meeting(client, OTHER, 12)
    manage = confirm(client, subscribe(client, inbox, "fay@example.org", [GROUP]))
    page = client.get(f"/subscriptions/manage?token={manage}")
    assert page.status_code == 200 and "fay@example.org" in page.text
    form = {"token": manage, "groups": [GROUP, OTHER], "language": "fr", "action": "save"}
    assert client.post("/subscriptions/manage", data=form).status_code == 200
    wait_for(lambda: len(invites(inbox, "fay@example.org")) == 1, "the added group's meeting")
    assert invites(inbox, "fay@example.org")[0].event.uid == uid_of(uid)
    leave = {"token": manage, "action": "leave"}
    assert client.post("/subscriptions/manage", data=leave).status_code == 200
    assert client.get(f"/subscriptions/manage?token={manage}").status_code == 404
    wait_for(lambda: settled(engine), "the outbox settled")


def test_one_confirmation_per_address_per_ten_minutes(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    subscribe(client, inbox, "gus@example.org", [GROUP])
    for _ in range(3):
        body = {"email": "GUS@example.org", "groups": [GROUP], "language": "en"}
        assert client.post("/api/subscriptions", json=body).status_code == 202
    wait_for(lambda: settled(engine), "the outbox settled")
    assert len(to(inbox, "gus@example.org")) == 1


def test_an_invitation_is_one_mail_with_both_parts(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, _ = mail_app
    confirm(client, subscribe(client, inbox, "hal@example.org", [GROUP]))
    add_meeting(client, GROUP, 12, title="Ünïcode título")
    wait_for(lambda: len(invites(inbox, "hal@example.org")) == 1, "the invitation")
    (message,) = [m for m in to(inbox, "hal@example.org") if "Invitation" in m["Subject"]]
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/calendar"]
    assert read_invite(message).event.summary.endswith("Ünïcode título")


class RefusingOne(Inbox):
    """Refuses every mail to one address for good (550), like a mailbox that does not exist."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@gone.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_an_address_refused_n_times_in_a_row_gets_no_more_and_is_counted(
    database_url: str,
) -> None:
    with smtp_server(inbox=RefusingOne()) as inbox:
        settings = invite_settings(database_url, inbox.port, invitation_refusals=2)  # type: ignore[attr-defined]
        app = create_app(settings)
        with TestClient(app) as client:
            engine: Engine = app.state.engine
            add_confirmed(engine, 1, GROUP, domain="example.org")
            (gone_address,) = add_confirmed(engine, 1, GROUP, domain="gone.example")
            for weeks in (10, 11, 12):
                add_meeting(client, GROUP, weeks)
                wait_for(lambda: settled(engine), "the outbox settled")
            with Session(engine) as session:
                gone = session.exec(
                    select(Subscriber).where(Subscriber.email == gone_address)
                ).one()
            assert gone.stopped_at is not None and gone.refusals == 2
            refused = [r for r in outbox_rows(engine) if r.target == gone_address]
            assert [r.status for r in refused if r.event.startswith("invite.")] == [
                outbox.FAILED,
                outbox.FAILED,
            ]
            assert all(gone_address not in (r.last_error or "") for r in refused)
            assert "<subscriber>" in (refused[0].last_error or "")
            assert len(invites(inbox, "person00000@example.org")) == 3
            metrics = client.get("/metrics").text
            assert "u4ssc_invitations_stopped_addresses_total 1.0" in metrics
