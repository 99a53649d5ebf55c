"""The console's forms as plain functions over a real store: what a save does, field errors and
conflicts, without HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app import crud
from app.console import forms
from app.core.config import Settings
from app.models import Meeting

BASE = "https://calendar.example.org"
FUTURE = (dt.date.today() + dt.timedelta(days=40)).isoformat()


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Meeting)).one())


def test_a_form_with_a_wrong_field_saves_nothing_and_names_the_field(
    engine: Engine, settings: Settings
) -> None:
    before = _count(engine)
    form = {**forms.empty_meeting_form("ai-in-cities-wg2"), "date": FUTURE, "start_time": "14:00"}
    with Session(engine) as session:
        outcome = forms.create_meeting(session, form, "maria", settings, BASE)
    assert not outcome.saved
    assert set(outcome.errors) == {"end_time"}
    assert _count(engine) == before


def test_a_saved_form_reopens_with_what_was_saved(engine: Engine, settings: Settings) -> None:
    form = {
        **forms.empty_meeting_form("ai-in-cities-wg2"),
        "date": FUTURE,
        "start_time": "14:00",
        "end_time": "15:00",
        "title": "Kick-off",
    }
    with Session(engine) as session:
        outcome = forms.create_meeting(session, form, "maria", settings, BASE)
        assert outcome.saved and outcome.key is not None
        meeting = crud.get_meeting(session, outcome.key)
        reopened = forms.meeting_form(crud.meeting_snapshot(session, meeting))
    assert {k: reopened[k] for k in ("group", "date", "start_time", "end_time", "title")} == {
        "group": "ai-in-cities-wg2",
        "date": FUTURE,
        "start_time": "14:00",
        "end_time": "15:00",
        "title": "Kick-off",
    }


def test_saving_over_a_newer_version_shows_what_changed_instead_of_overwriting(
    engine: Engine, settings: Settings
) -> None:
    uid = "ai-in-cities-wg2-2023-07-27"
    with Session(engine) as session:
        meeting = crud.get_meeting(session, uid)
        opened_version = meeting.version
        opened = forms.snapshot_text(crud.meeting_snapshot(session, meeting))
        stale = {**forms.meeting_form(crud.meeting_snapshot(session, meeting))}
    with Session(engine) as session:  # someone else saves first
        forms.update_meeting(
            session,
            uid,
            {**stale, "title": "Theirs", "version": str(opened_version), "opened": opened},
            "ana",
            settings,
            BASE,
        )
    with Session(engine) as session:
        outcome = forms.update_meeting(
            session,
            uid,
            {**stale, "title": "Mine", "version": str(opened_version), "opened": opened},
            "maria",
            settings,
            BASE,
        )
        title = crud.get_meeting(session, uid).title
    assert not outcome.saved
    changed = {name: (then, now) for name, then, now in outcome.conflict}
    assert changed["title"][1] == "Theirs"
    assert "date" not in changed and "start_time" not in changed
    assert outcome.current_version == opened_version + 1
    assert title == "Theirs"


def _meeting_reads(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    """The statements that read the meeting table, from now until the returned stop()."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM meeting" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def test_a_save_and_a_conflict_each_read_the_meeting_once(
    engine: Engine, settings: Settings
) -> None:
    uid = "ai-in-cities-wg2-2023-07-27"
    with Session(engine) as session:
        meeting = crud.get_meeting(session, uid)
        form = {**forms.meeting_form(crud.meeting_snapshot(session, meeting))}
        version = meeting.version
    form.update(version=str(version), opened="")
    for title, expect_saved in (("Saved once", True), ("Too late", False)):
        seen, stop = _meeting_reads(engine)
        with Session(engine) as session:
            outcome = forms.update_meeting(
                session, uid, {**form, "title": title}, "maria", settings, BASE
            )
        stop()
        assert outcome.saved is expect_saved, outcome
        assert len(seen) == 1, seen  # the locked read; the conflict page uses what it found
    assert outcome.current_version == version + 1
