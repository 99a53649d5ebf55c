"""Mail in the reader's language, through the outbox to a real SMTP server (aiosmtpd): the
confirmation and every invitation in the subscriber's own language (subject, text, the attached
event), one rendering per language in a fan-out; the list's announcement in ANNOUNCE_LANGUAGE.
No English fixed word is left, and every calendar part has the English one's instants."""

from __future__ import annotations

import datetime as dt
import json
import typing
from collections.abc import Iterator
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.db import write_session
from app.delivery import fanout, invitations, outbox
from app.i18n.dates import weekday_date
from app.i18n.languages import LANGUAGES
from app.ical.wording import FeedContext
from app.main import create_app
from app.models import Meeting
from app.readmodel.groups import group_index
from tests.conftest import AUTH, BASE_URL
from tests.delivery.test_announce import GROUP, all_sent, future_thursday, mail_settings
from tests.delivery.test_invitations import add_meeting, invite_settings, settled
from tests.utils.invites import confirm, has_calendar, invites, to
from tests.utils.mail import LIST, Inbox, smtp_server, text_part, wait_for
from tests.utils.words import english_left, ics_text, marked_words

# The words mail is made of: its own, the time's, and the attached event's.
MAIL_WORDS = ("delivery/invitations.py", "delivery/announce.py", "delivery/when.py", "ical")
INSTANTS = ("UID", "DTSTART", "DTEND", "SEQUENCE", "STATUS")


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mail_app(database_url: str, inbox: Inbox) -> Iterator[tuple[TestClient, Engine]]:
    app = create_app(invite_settings(database_url, inbox.port))  # type: ignore[attr-defined]
    with TestClient(app) as client:
        yield client, app.state.engine


def _subscribe(client: TestClient, inbox: Inbox, email: str, lang: str) -> EmailMessage:
    body: dict[str, Any] = {"email": email, "groups": [GROUP], "language": lang}
    assert client.post("/api/subscriptions", json=body).status_code == 202
    wait_for(lambda: len(to(inbox, email)) == 1, f"the confirmation mail to {email}")
    return to(inbox, email)[0]


def _token(message: EmailMessage) -> str:
    return text_part(message).split("/subscriptions/confirm?token=", 1)[1].split()[0]


def _calendar(message: EmailMessage) -> bytes:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def _instants(data: bytes) -> list[tuple[bytes | str, ...]]:
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return [tuple(e[name].to_ical() for name in INSTANTS) for e in events]


def _data(client: TestClient) -> list[str]:
    """The English data texts mail shows as they are (names, leaders, titles)."""
    groups = client.get("/api/groups?limit=1000").json()["data"]
    found = [g[k] or "" for g in groups for k in ("name", "short_name", "code")]
    found += [leader[k] or "" for g in groups for leader in g["leaders"] for k in leader]
    return [*found, "Kick-off", "Agenda"]


def _everything(message: EmailMessage) -> str:
    """What a reader sees: From's name, Subject, the text and the attached event's words."""
    parts = [str(message["From"]), str(message["Subject"]), text_part(message)]
    if any(p.get_content_type() == "text/calendar" for p in message.walk()):
        parts.append(ics_text(_calendar(message)))
    return "\n".join(parts)


def test_a_french_subscriber_gets_french_mail(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    address = "amelie@example.org"
    confirmation = _subscribe(client, inbox, address, "fr")
    assert confirmation["Subject"] == (
        "Confirmation\u00a0: invitations par courriel aux réunions de l'U4SSC"
    )
    assert str(confirmation["From"]).startswith("Secrétariat de l'U4SSC")
    body = text_part(confirmation)
    assert "Quelqu'un, probablement vous, a demandé" in body
    assert "Le lien n'est utilisable qu'une fois, pendant 7 jours." in body
    words = marked_words(*MAIL_WORDS)
    assert english_left(_everything(confirmation), "fr", words, _data(client)) == []

    confirm(client, _token(confirmation))
    day = future_thursday(14)
    uid = add_meeting(client, GROUP, 14, title="Kick-off", description="Agenda")
    wait_for(lambda: len(invites(inbox, address)) == 1, "the French invitation")
    wait_for(lambda: settled(engine), "the outbox settled")
    (message,) = [m for m in to(inbox, address) if has_calendar(m)]
    subject = str(message["Subject"])
    assert subject.startswith("Invitation\u00a0: Réunion électronique de l'U4SSC\u00a0: ")
    assert f"{weekday_date(day, 'fr')}, 16:00-17:00, heure de Genève" in subject
    text = text_part(message)
    assert "Une réunion électronique de l'U4SSC a été programmée." in text
    assert "Vous recevez ce message parce que vous êtes abonné" in text
    calendar = ics_text(_calendar(message))
    assert "SUMMARY:U4SSC AI in cities WG2 Autonomous Cities\u00a0: Kick-off" in calendar
    assert "LOCATION:En ligne" in calendar
    assert english_left(_everything(message), "fr", words, _data(client)) == []
    # The attached event is the French feed's, at the English feed's instants.
    french_feed = client.get(f"/meetings/{uid}.ics?lang=fr").content
    assert _instants(_calendar(message)) == _instants(french_feed)
    assert _instants(french_feed) == _instants(client.get(f"/meetings/{uid}.ics").content)


def test_one_change_reaches_each_subscriber_in_their_own_language(
    mail_app: tuple[TestClient, Engine], inbox: Inbox
) -> None:
    client, engine = mail_app
    readers = {lang: f"reader-{lang}@example.org" for lang in LANGUAGES}
    for lang, address in readers.items():
        confirm(client, _token(_subscribe(client, inbox, address, lang)))
    title = {"ar": "الانطلاق", "ru": "Начало"}
    texts = {lang: {"title": value} for lang, value in title.items()}
    uid = add_meeting(client, GROUP, 20, title="Kick-off", translations=texts)
    everyone = list(readers.values())
    wait_for(lambda: all(len(invites(inbox, a)) == 1 for a in everyone), "six invitations")
    wait_for(lambda: settled(engine), "the outbox settled")
    words = marked_words(*MAIL_WORDS)
    calendars = {}
    for lang, address in readers.items():
        (message,) = [m for m in to(inbox, address) if has_calendar(m)]
        calendars[lang] = _calendar(message)
        seen = _everything(message)
        if lang in title:
            assert title[lang] in str(message["Subject"]) and title[lang] in seen
        if lang != "en":
            assert english_left(seen, lang, words, _data(client)) == [], (lang, seen)
        else:  # the check would see English
            assert "Invitation" in english_left(seen, "ru", words, _data(client))
    assert len(set(calendars.values())) == len(LANGUAGES)  # six renderings
    english = _instants(calendars["en"])
    assert all(_instants(data) == english for data in calendars.values())
    assert english == _instants(client.get(f"/meetings/{uid}.ics").content)


def test_the_list_announcement_is_in_announce_language(database_url: str, inbox: Inbox) -> None:
    settings = mail_settings(database_url, inbox.port).model_copy(  # type: ignore[attr-defined]
        update={"announce_language": "es"}
    )
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        day = future_thursday()
        body = {"group": GROUP, "date": day.isoformat(), "start_time": "16:00", "end_time": "17:00"}
        created = client.post("/api/meetings?announce=true", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        wait_for(lambda: all_sent(engine, 1), "the announcement")
        (message,) = inbox.messages
        assert message["To"] == LIST
        assert str(message["Subject"]) == (
            "Reunión electrónica de la U4SSC: AI in cities WG2 Autonomous Cities, "
            f"{weekday_date(day, 'es')}, 16:00-17:00, hora de Ginebra"
        )
        text = text_part(message)
        assert text.startswith("Se ha programado una reunión electrónica de la U4SSC.")
        assert "Fecha y hora (hora de Ginebra): " in text
        calendar = ics_text(_calendar(message))
        assert "LOCATION:En línea" in calendar and "Hora: " in calendar
        words = marked_words(*MAIL_WORDS)
        assert english_left(_everything(message), "es", words, _data(client)) == []
        spanish_feed = client.get(f"/meetings/{created.json()['uid']}.ics?lang=es").content
        assert _instants(_calendar(message)) == _instants(spanish_feed)


def test_announce_language_is_one_of_the_six() -> None:
    field = Settings.model_fields["announce_language"]
    assert typing.get_args(field.annotation) == LANGUAGES
    assert Settings(announce_language="ru").announce_language == "ru"
    for wrong in ("de", "FR", ""):
        with pytest.raises(ValidationError, match="announce_language"):
            Settings(announce_language=wrong)


def _fanout_row(engine: Engine, job: dict[str, Any]) -> int:
    """A fan-out row as the write leaves it (marked sent: no sender works on it here)."""
    with write_session(engine) as session:
        row = outbox.enqueue(
            session, fanout.FANOUT, "m", "fanout.request", json.dumps(job), outbox.Policy()
        )
        row.status = outbox.SENT
        session.flush()
        assert row.id is not None
        return row.id


def _copy(engine: Engine, job_id: int, reference: dict[str, Any]) -> EmailMessage:
    claimed = outbox.Claimed(
        id=0,
        message_id="m1",
        kind=outbox.MAIL,
        target="reader@example.org",
        webhook_id=None,
        event="invite.request",
        payload=fanout.COPY + json.dumps({"fanout": job_id, "token": "t", **reference}),
        attempts=0,
        expires_at=dt.datetime.now(dt.UTC),
    )
    text = fanout.mail_text(engine, Settings(), claimed)
    message: EmailMessage = message_from_string(text, policy=policy.default)
    return message


def test_a_copy_takes_its_language_and_rows_from_before_languages_still_send(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        meeting = session.exec(select(Meeting).limit(1)).first()
        assert meeting is not None
        info = group_index(session)[meeting.group_id]
        made = {
            lang: invitations.invitation(
                meeting, info, FeedContext.of(Settings(), BASE_URL, lang), "created", "a@b.org"
            ).dumps()
            for lang in ("en", "fr")
        }
    current = _fanout_row(engine, {"invitations": made, "groups": [], "last": 0, "after": 0})
    assert "Invitation\u00a0: " in str(_copy(engine, current, {"lang": "fr"})["Subject"])
    # A language the change was not rendered in (changed since) reads English.
    assert str(_copy(engine, current, {"lang": "zh"})["Subject"]).startswith("Invitation: ")
    # A fan-out written before languages: one invitation, its copies without a language.
    legacy = {"invitation": made["en"], "groups": [], "last": 0, "after": 0}
    older = _fanout_row(engine, legacy)
    assert str(_copy(engine, older, {})["Subject"]).startswith("Invitation: ")
