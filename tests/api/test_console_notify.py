"""Console writes reach webhooks like the API's, and the "Announce to the mailing list" box
announces them: through the console over HTTP, to a real SMTP server (aiosmtpd) and a real
HTTP receiver."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook as Verifier

from app.auth import accounts
from app.core.config import Settings
from app.delivery import outbox, webhooks
from app.main import create_app
from tests.api.test_admin import CSRF, NAME, ORIGIN, PASSWORD, sign_in
from tests.conftest import BASE_URL
from tests.delivery.test_announce import (
    FAST,
    GROUP,
    LABEL,
    assert_matches_feed,
    future_thursday,
    human,
    mail_settings,
    outbox_rows,
)
from tests.delivery.test_webhooks import Receiver, receiving
from tests.utils.mail import Inbox, calendar_part, smtp_server, wait_for
from tests.utils.server import free_port

VERSION = re.compile(r'name="version" value="(\d+)"')
OPENED = re.compile(r'name="opened" value="([^"]*)"')
BOX = 'id="announce" name="announce" type="checkbox"'
NOTE = "Announcements to the mailing list need SMTP_URL and ANNOUNCE_TO"


@dataclass
class Console:
    client: TestClient
    engine: Engine
    csrf: str
    inbox: Inbox
    receiver: Receiver
    secret: str

    def post(self, path: str, form: dict[str, str]) -> Any:
        data = {**form, "csrf_token": self.csrf}
        return self.client.post(path, data=data, headers=ORIGIN)

    def hidden(self, path: str) -> dict[str, str]:
        """The version and snapshot a page's form carries."""
        page = self.client.get(path).text
        found, opened = VERSION.search(page), OPENED.search(page)
        assert found and opened, page
        return {"version": found.group(1), "opened": html.unescape(opened.group(1))}

    def events(self) -> list[dict[str, Any]]:
        return [Verifier(self.secret).verify(body, h) for h, body in self.receiver.calls]


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    """A signed-in console on a server that can announce, with one webhook registered."""
    with ExitStack() as stack:
        inbox = stack.enter_context(smtp_server())
        receiver = stack.enter_context(receiving(Receiver(free_port())))
        app = create_app(mail_settings(database_url, inbox.port))  # type: ignore[attr-defined]
        client = stack.enter_context(TestClient(app, base_url=BASE_URL, follow_redirects=False))
        engine: Engine = app.state.engine
        with Session(engine) as session:
            accounts.add_user(session, NAME, PASSWORD)
            _, secret = webhooks.add(session, receiver.url)
            session.commit()
        assert sign_in(client).status_code == 303
        found = CSRF.search(client.get("/admin").text)
        assert found
        yield Console(client, engine, found.group(1), inbox, receiver, secret)


def _meeting_form(**extra: str) -> dict[str, str]:
    return {
        "group": GROUP,
        "date": future_thursday().isoformat(),
        "start_time": "16:00",
        "end_time": "17:00",
        "timezone": "Europe/Zurich",
        "status": "confirmed",
        "title": "",
        "join_url": "https://meet.example.org/wg2",
        **extra,
    }


def _created(console: Console, form: dict[str, str]) -> str:
    response = console.post("/admin/meetings/new", form)
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/admin/meetings/([^?]+)\?saved=1", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def _all_sent(engine: Engine, count: int) -> bool:
    rows = outbox_rows(engine)
    return len(rows) == count and all(row.status == outbox.SENT for row in rows)


def test_a_meeting_created_with_the_box_ticked_is_announced_once(console: Console) -> None:
    page = console.client.get("/admin/meetings/new").text
    assert BOX in page and '<label for="announce">Announce to the mailing list</label>' in page
    assert NOTE not in page
    uid = _created(console, _meeting_form(announce="on"))
    # One mail and one webhook call, both written with the change.
    wait_for(lambda: _all_sent(console.engine, 2), "the announcement and the webhook call")
    assert sorted(row.kind for row in outbox_rows(console.engine)) == [outbox.MAIL, "webhook"]
    (mail,) = console.inbox.messages
    day = future_thursday()
    assert mail["Subject"] == f"U4SSC e-meeting: {LABEL}, {human(day)}, 16:00-17:00 Geneva time"
    event = assert_matches_feed(console.client, calendar_part(mail), uid)
    assert event.uid == f"{uid}@u4ssc.itu.int" and event.sequence == 0
    wait_for(lambda: len(console.receiver.calls) == 1, "the webhook call")
    (created,) = console.events()
    assert created["type"] == "meeting.created"
    assert len(console.inbox.raw) == 1


def test_without_the_box_no_mail_but_the_webhook_hears(console: Console) -> None:
    uid = _created(console, _meeting_form())
    (row,) = outbox_rows(console.engine)
    assert (row.kind, row.target, row.event) == (
        outbox.WEBHOOK,
        console.receiver.url,
        "meeting.created",
    )
    wait_for(lambda: _all_sent(console.engine, 1), "the webhook call")
    (created,) = console.events()
    # The same public JSON, links on the same public base URL, as the API's write would send.
    assert created["data"] == console.client.get(f"/api/meetings/{uid}").json()
    assert created["data"]["url"].startswith(f"{BASE_URL}/")
    assert console.inbox.raw == []


def test_a_cancel_with_the_box_ticked_sends_a_cancelled_mail(console: Console) -> None:
    uid = _created(console, _meeting_form())
    page = console.client.get(f"/admin/meetings/{uid}/cancel").text
    assert BOX in page and " checked" not in page.split(BOX)[1].split(">")[0]
    hidden = console.hidden(f"/admin/meetings/{uid}/cancel")
    response = console.post(f"/admin/meetings/{uid}/cancel", {**hidden, "announce": "on"})
    assert response.status_code == 303, response.text
    wait_for(lambda: _all_sent(console.engine, 3), "two webhook calls and one mail")
    (mail,) = console.inbox.messages
    assert mail["Subject"].startswith(f"Cancelled: U4SSC e-meeting: {LABEL}, ")
    event = assert_matches_feed(console.client, calendar_part(mail), uid)
    assert event.status == "CANCELLED" and event.sequence == 1
    wait_for(lambda: len(console.receiver.calls) == 2, "both webhook calls")
    assert sorted(e["type"] for e in console.events()) == ["meeting.cancelled", "meeting.created"]


def test_a_group_status_change_in_the_console_reaches_the_webhook(console: Console) -> None:
    hidden = console.hidden(f"/admin/groups/{GROUP}")
    form = {**hidden, "status": "ongoing", "status_note": "Kicked off"}
    response = console.post(f"/admin/groups/{GROUP}", form)
    assert response.status_code == 303, response.text
    wait_for(lambda: len(console.receiver.calls) == 1, "the group.updated call")
    (event,) = console.events()
    assert event["type"] == "group.updated"
    assert event["data"] == console.client.get(f"/api/groups/{GROUP}").json()
    assert event["data"]["status"] == "ongoing"
    assert console.inbox.raw == []


def test_a_refused_form_sends_nothing_and_keeps_the_box(console: Console) -> None:
    refused = [
        _meeting_form(announce="on", join_url="ftp://not-a-meeting"),  # the model refuses
        _meeting_form(announce="on", end_time="15:00"),  # ends before it starts
        _meeting_form(announce="on", group="no-such-group"),  # crud refuses
    ]
    for form in refused:
        response = console.post("/admin/meetings/new", form)
        assert response.status_code == 422, (form, response.text)
        assert f'{BOX} value="on" checked' in response.text
    uid = _created(console, _meeting_form())
    wait_for(lambda: _all_sent(console.engine, 1), "the one webhook call")
    # A stale cancel (someone saved in between) is refused too, and sends nothing.
    stale = {"version": "0", "opened": "{}", "announce": "on"}
    response = console.post(f"/admin/meetings/{uid}/cancel", stale)
    assert response.status_code == 409, response.text
    assert f'{BOX} value="on" checked' in response.text
    assert len(outbox_rows(console.engine)) == 1
    assert console.inbox.raw == []


def test_without_smtp_the_box_is_absent_and_a_forged_one_is_refused(database_url: str) -> None:
    settings = Settings(database_url=database_url, public_base_url=BASE_URL, **FAST)
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        engine: Engine = app.state.engine
        with Session(engine) as session:
            accounts.add_user(session, NAME, PASSWORD)
        assert sign_in(client).status_code == 303
        page = client.get("/admin/meetings/new").text
        assert BOX not in page and NOTE in page
        found = CSRF.search(page)
        assert found
        form = {**_meeting_form(announce="on"), "csrf_token": found.group(1)}
        response = client.post("/admin/meetings/new", data=form, headers=ORIGIN)
        assert response.status_code == 422
        assert "set SMTP_URL and ANNOUNCE_TO" in response.text
        assert outbox_rows(engine) == []
        plain = {**_meeting_form(), "csrf_token": found.group(1)}
        assert client.post("/admin/meetings/new", data=plain, headers=ORIGIN).status_code == 303
