"""The announcement's Subject, for titles of every length from 1 to 200 in several scripts:
never an empty RFC 2047 word (issue 21 saw `=?utf-8?q??=`), always read back exactly."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import crud
from app.delivery import announce
from app.ical.wording import FeedContext
from app.readmodel.groups import group_index

SCRIPTS = {
    "latin": "Réunion de lancement ",
    "cyrillic": "Встреча рабочей группы ",
    "arabic": "اجتماع الفريق العامل ",
    "chinese": "工作组会议第一次",
    "emoji": "🏙️🌍 ",
    "mixed": "AI 会议 Встреча WG2 — ",
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_title_length_gives_a_subject_mail_clients_read_back(
    engine: Engine, script: str
) -> None:
    ctx = FeedContext(
        "https://calendar.example.org", "u4ssc.itu.int", "u4ssc@itu.int", dt.timedelta(hours=6)
    )
    with Session(engine) as session:
        meeting = crud.get_meeting(session, "ai-in-cities-wg2-2023-07-27")
        info = group_index(session)[meeting.group_id]
        session.expunge(meeting)
    pattern = SCRIPTS[script]
    for length in range(1, 201):
        meeting.title = (pattern * (length // len(pattern) + 1))[:length].strip() or "x"
        for kind in ("created", "rescheduled", "cancelled"):
            message = announce.build(
                meeting, info, ctx, kind, message_id="m1", mail_from="u4ssc@itu.int", to="l@x.org"
            )
            raw = message.as_bytes()
            head = raw.split(b"\r\n\r\n", 1)[0]
            assert b"??=" not in head, (script, length, head[:400])
            assert all(len(line) <= 998 for line in head.split(b"\r\n"))
            back = message_from_bytes(raw, policy=policy.default)
            assert str(back["Subject"]) == announce.subject(meeting, info, kind), (script, length)
