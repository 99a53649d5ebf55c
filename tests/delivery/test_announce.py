"""Mailing-list announcements, delivered through the outbox to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import crud
from app.core.config import Settings
from app.core.db import write_session
from app.delivery import notify, outbox
from app.main import create_app
from app.models import MeetingCreate, OutboxMessage
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.ical_parsers import ParsedEvent, parse_ical, parse_icalendar, parse_icaljs
from tests.utils.errors import assert_field_error
from tests.utils.feeds import assert_lines_well_formed
from tests.utils.mail import LIST, Inbox, calendar_part, smtp_server, text_part, wait_for
from tests.utils.server import free_port

GROUP = "ai-in-cities-wg2"
LABEL = "AI in cities WG2 Autonomous Cities"
# Retries within a fraction of a second, so that the tests take seconds.
FAST: dict[str, Any] = {
    "outbox_retry_seconds": 0.2,
    "outbox_poll_seconds": 0.05,
    "outbox_lease_seconds": 5,
}


def mail_settings(database_url: str, port: int) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        public_base_url=BASE_URL,
        smtp_url=f"smtp://127.0.0.1:{port}",
        announce_to=LIST,
        mail_from="u4ssc@itu.int",
        **FAST,
    )


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mail_app(database_url: str, inbox: Inbox) -> Iterator[tuple[TestClient, Engine]]:
    app = create_app(mail_settings(database_url, inbox.port))  # type: ignore[attr-defined]
    with TestClient(app) as client:
        yield client, app.state.engine


def future_thursday(weeks: int = 13) -> dt.date:
    day = dt.date.today() + dt.timedelta(weeks=weeks)
    return day + dt.timedelta(days=(3 - day.weekday()) % 7)


def human(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def all_sent(engine: Engine, count: int) -> bool:
    rows = outbox_rows(engine)
    return len(rows) == count and all(row.status == outbox.SENT for row in rows)


def three_parsers(data: bytes) -> list[ParsedEvent]:
    """The events icalendar, ical and ical.js see in `data`, after checking they agree."""
    first = parse_icalendar(data)
    assert parse_ical(data) == first
    assert parse_icaljs(data) == first
    return first


def assert_matches_feed(client: TestClient, mail: bytes, uid: str) -> ParsedEvent:
    """The mail's calendar part holds the feed's event of that moment: same UID, SEQUENCE."""
    assert_lines_well_formed(mail)
    (event,) = three_parsers(mail)
    (in_feed,) = parse_icalendar(client.get(f"/meetings/{uid}.ics").content)
    assert (event.uid, event.sequence) == (in_feed.uid, in_feed.sequence)
    assert event == in_feed
    return event


def test_created_rescheduled_and_cancelled_each_send_one_message(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    day = future_thursday()
    body: dict[str, Any] = {
        "group": GROUP,
        "date": day.isoformat(),
        "start_time": "16:00",
        "end_time": "17:00",
        "join_url": "https://meet.example.org/wg2",
    }
    created = client.post("/api/meetings?announce=true", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    wait_for(lambda: all_sent(engine, 1), "the announcement of the new meeting")
    (first,) = inbox.messages
    assert inbox.recipients == [[LIST]]
    assert first["To"] == LIST
    assert first["Subject"] == f"U4SSC e-meeting: {LABEL}, {human(day)}, 16:00-17:00 Geneva time"
    event = assert_matches_feed(client, calendar_part(first), uid)
    assert event.uid == f"{uid}@u4ssc.itu.int" and event.sequence == 0
    text = text_part(first)
    start_utc = dt.datetime.fromisoformat(created.json()["start_utc"]).astimezone(dt.UTC)
    for fragment in (
        "Thematic group: Artificial intelligence in cities",
        "Working group: WG2 Autonomous Cities",
        "Leaders: Okan Geray (Digital Dubai)",
        f"{human(day)}, 16:00-17:00 Geneva time",
        f"{start_utc:%H:%M}-",
        " UTC",
        "Join: https://meet.example.org/wg2",
        f"Group page: {BASE_URL}/groups/{GROUP}",
        f"{BASE_URL}/groups/{GROUP}/calendar.ics",
        f"webcal://{BASE_URL.split('://')[1]}/groups/{GROUP}/calendar.ics",
    ):
        assert fragment in text, (fragment, text)

    later = day + dt.timedelta(days=7)
    moved = client.patch(
        f"/api/meetings/{uid}?announce=true", json={"date": later.isoformat()}, headers=AUTH
    )
    assert moved.status_code == 200, moved.text
    wait_for(lambda: all_sent(engine, 2), "the announcement of the reschedule")
    second = inbox.messages[1]
    assert second["Subject"] == (
        f"Rescheduled: U4SSC e-meeting: {LABEL}, {human(later)}, 16:00-17:00 Geneva time"
    )
    assert assert_matches_feed(client, calendar_part(second), uid).sequence == 1
    # Issue 24, point 9: a list reader sees what moved, from and to, in Geneva time and UTC.
    moved_text = text_part(second)
    later_utc = dt.datetime.fromisoformat(moved.json()["start_utc"]).astimezone(dt.UTC)
    for fragment in (
        f"Moved from (Geneva time): {human(day)}, 16:00-17:00 Geneva time",
        f"Moved from (UTC): {human(day)}, {start_utc:%H:%M}-",
        f"Moved to (Geneva time): {human(later)}, 16:00-17:00 Geneva time",
        f"Moved to (UTC): {human(later)}, {later_utc:%H:%M}-",
    ):
        assert fragment in moved_text, (fragment, moved_text)

    cancelled = client.delete(f"/api/meetings/{uid}?announce=true", headers=AUTH)
    assert cancelled.status_code == 200, cancelled.text
    wait_for(lambda: all_sent(engine, 3), "the announcement of the cancellation")
    third = inbox.messages[2]
    assert third["Subject"].startswith(f"Cancelled: U4SSC e-meeting: {LABEL}, {human(later)}")
    event = assert_matches_feed(client, calendar_part(third), uid)
    assert event.status == "CANCELLED" and event.sequence == 2
    assert "CANCELLED" in text_part(third)

    # Exactly one message per change, each under its own stable Message-ID.
    assert len(inbox.raw) == 3
    ids = inbox.message_ids()
    assert len(set(ids)) == 3
    assert {f"<{row.message_id}@u4ssc.itu.int>" for row in outbox_rows(engine)} == set(ids)


def test_a_non_ascii_title_arrives_intact(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    title = "Réunion de lancement \N{EN DASH} 東京 🏙"
    body = {"group": GROUP, "date": future_thursday().isoformat(), "title": title}
    body.update(start_time="10:00", end_time="11:30")
    created = client.post("/api/meetings?announce=true", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    wait_for(lambda: all_sent(engine, 1), "the announcement")
    (raw,) = inbox.raw
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in headers.lower(), headers  # RFC 2047: the header stays ASCII
    assert headers.isascii()
    (message,) = inbox.messages
    assert title in message["Subject"]
    assert f"Title: {title}" in text_part(message)
    (event,) = three_parsers(calendar_part(message))
    assert title in event.summary


def test_announce_without_smtp_is_refused_before_writing(client: TestClient) -> None:
    before = client.get("/api/meetings", params={"group": GROUP}).json()["count"]
    body = {"group": GROUP, "date": future_thursday().isoformat()}
    response = client.post("/api/meetings?announce=true", json=body, headers=AUTH)
    assert_field_error(response, "announce", "SMTP_URL", "ANNOUNCE_TO")
    assert client.get("/api/meetings", params={"group": GROUP}).json()["count"] == before
    uid = "ai-in-cities-wg2-2023-07-27"
    refused = client.delete(f"/api/meetings/{uid}?announce=true", headers=AUTH)
    assert_field_error(refused, "announce", "SMTP_URL")
    assert client.get(f"/api/meetings/{uid}").json()["status"] == "confirmed"


def test_an_aborted_write_sends_nothing(mail_app: tuple[TestClient, Engine], inbox: Inbox) -> None:
    client, engine = mail_app
    settings = client.app.state.settings  # type: ignore[attr-defined]
    data = MeetingCreate(group=GROUP, date=future_thursday())
    with pytest.raises(RuntimeError), write_session(engine) as session:
        notify.attach(session, settings, BASE_URL, announce=True)
        crud.create_meeting(session, data, "test", commit=False)
        session.flush()
        raise RuntimeError("the write fails after its change was made")
    # A refused write through the API: a stale If-Match.
    uid = "ai-in-cities-wg2-2023-07-27"
    stale = client.patch(
        f"/api/meetings/{uid}?announce=true",
        json={"date": future_thursday().isoformat()},
        headers={**AUTH, "If-Match": '"m1-999"'},
    )
    assert stale.status_code == 412
    # A write that does commit, after both: the only message there is.
    done = client.delete(f"/api/meetings/{uid}?announce=true", headers=AUTH)
    assert done.status_code == 200
    wait_for(lambda: all_sent(engine, 1), "the one announcement")
    assert len(inbox.raw) == 1
    assert inbox.messages[0]["Subject"].startswith("Cancelled: ")


def test_smtp_down_during_the_write_delivers_once_it_is_back(database_url: str) -> None:
    port = free_port()
    app = create_app(mail_settings(database_url, port))
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        body = {"group": GROUP, "date": future_thursday().isoformat()}
        body.update(start_time="16:00", end_time="17:00")
        created = client.post("/api/meetings?announce=true", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        wait_for(
            lambda: any(row.attempts >= 2 and row.last_error for row in outbox_rows(engine)),
            "failed attempts while the SMTP server is down",
        )
        (row,) = outbox_rows(engine)
        assert row.status == outbox.PENDING
        metrics = client.get("/metrics").text
        assert "u4ssc_outbox_pending 1.0" in metrics
        with smtp_server(port) as inbox:
            wait_for(lambda: all_sent(engine, 1), "delivery once the server is back")
            assert len(inbox.raw) == 1
            assert inbox.message_ids() == [f"<{row.message_id}@u4ssc.itu.int>"]
        metrics = client.get("/metrics").text
        assert "u4ssc_outbox_pending 0.0" in metrics
        assert "u4ssc_outbox_sent_total 1.0" in metrics
