"""POST /api/subscriptions and the pages' form: bad input is a 422 with a detail and stores and
mails nothing; without SMTP it is a 503 and no form is shown; a client's requests are limited;
no address shows in pages, feeds, Atom or JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.db import write_session
from app.main import create_app
from app.models import OutboxMessage, Subscriber
from tests.conftest import AUTH
from tests.delivery.test_announce import GROUP, future_thursday
from tests.delivery.test_invitations import invite_settings
from tests.utils.errors import assert_error, assert_field_error
from tests.utils.invites import confirm, subscribe
from tests.utils.mail import Inbox, smtp_server

GOOD: dict[str, Any] = {"email": "ann@example.org", "groups": [GROUP], "language": "en"}


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mail_client(database_url: str, inbox: Inbox) -> Iterator[tuple[TestClient, Engine]]:
    settings = invite_settings(database_url, inbox.port, subscribe_per_client=5)  # type: ignore[attr-defined]
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, app.state.engine


def stored(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        people = session.exec(select(func.count()).select_from(Subscriber)).one()
        mails = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    return int(people), int(mails)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"email": "not an address"}, "email", "e-mail address"),
        ({"email": "ann@example.org\r\nBcc: x@example.org"}, "email", "line break"),
        ({"email": "ann@example.org\n"}, "email", "line break"),
        ({"email": "a,b@example.org"}, "email", "e-mail address"),
        ({"groups": ["no-such-group"]}, "groups", "no-such-group"),
        ({"groups": []}, "groups", "at least one group"),
        ({"groups": [f"g{n}" for n in range(5000)]}, "groups", "at most 100"),
        ({"groups": [f"{GROUP}\r\n"]}, "groups", ""),
        ({"language": "xx"}, "language", "one of"),
        ({"language": "en\n"}, "language", "one of"),
        ({"extra": 1}, "extra", ""),
    ],
)
def test_bad_input_is_a_422_and_stores_and_mails_nothing(
    mail_client: tuple[TestClient, Engine], change: dict[str, Any], field: str, fragment: str
) -> None:
    client, engine = mail_client
    before = stored(engine)
    answer = client.post("/api/subscriptions", json={**GOOD, **change})
    assert_field_error(answer, field, fragment)
    assert stored(engine) == before


def test_the_answer_is_the_same_whatever_the_address(
    mail_client: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, _ = mail_client
    confirm(client, subscribe(client, inbox, "ann@example.org", [GROUP]))
    known = client.post("/api/subscriptions", json=GOOD)
    unknown = client.post("/api/subscriptions", json={**GOOD, "email": "new@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == GOOD
    assert set(known.headers) - {"content-length"} == set(unknown.headers) - {"content-length"}


def test_a_client_is_limited(mail_client: tuple[TestClient, Engine]) -> None:
    client, _ = mail_client
    for n in range(5):
        body = {**GOOD, "email": f"p{n}@example.org"}
        assert client.post("/api/subscriptions", json=body).status_code == 202
    refused = client.post("/api/subscriptions", json={**GOOD, "email": "p9@example.org"})
    assert_error(refused, 429, "too many requests")
    assert int(refused.headers["Retry-After"]) > 0


def test_without_smtp_subscribing_is_a_503_and_no_form_is_shown(client: TestClient) -> None:
    assert_error(client.post("/api/subscriptions", json=GOOD), 503, "SMTP_URL")
    for path in ("/", f"/groups/{GROUP}"):
        page = client.get(path)
        assert page.status_code == 200 and 'id="invite-email"' not in page.text


def test_the_forms_are_on_the_home_and_group_pages(
    mail_client: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_client
    for path in ("/", f"/groups/{GROUP}"):
        page = client.get(path)
        assert '<label for="invite-email">Email</label>' in page.text
        assert 'action="/subscriptions"' in page.text
    form = {"email": "form@example.org", "groups": [GROUP], "language": "en"}
    assert client.post("/subscriptions", data=form).status_code == 202
    bad = client.post("/subscriptions", data={**form, "email": "nope"})
    assert bad.status_code == 422 and "e-mail address" in bad.text
    assert stored(engine)[0] == 1


def test_no_address_shows_in_pages_feeds_atom_or_json(
    mail_client: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, _ = mail_client
    confirm(client, subscribe(client, inbox, "secret-person@example.org", [GROUP]))
    body = {"group": GROUP, "date": future_thursday().isoformat()}
    uid = client.post("/api/meetings", json=body, headers=AUTH).json()["uid"]
    paths = ["/", f"/groups/{GROUP}", "/calendar.ics", f"/groups/{GROUP}/calendar.ics"]
    paths += ["/changes.atom", "/api/groups", "/api/meetings", f"/api/meetings/{uid}"]
    paths += [f"/meetings/{uid}.ics", "/openapi.json"]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "secret-person" not in answer.text, path


def test_an_unconfirmed_address_whose_link_expired_is_forgotten(
    mail_client: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_client
    subscribe(client, inbox, "late@example.org", [GROUP])
    with write_session(engine) as session:
        late = session.exec(select(Subscriber).where(Subscriber.email == "late@example.org")).one()
        late.confirm_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.add(late)
    assert client.post("/api/subscriptions", json=GOOD).status_code == 202
    with Session(engine) as session:
        emails = session.exec(select(Subscriber.email)).all()
        targets = session.exec(select(OutboxMessage.target)).all()
    assert emails == [GOOD["email"]] and "late@example.org" not in targets
