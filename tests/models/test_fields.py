"""The checked field types and the meeting family's whole-model checks, without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from app.models import GroupUpdate, Leader, MeetingCreate, MeetingUpdate

BASE = {"group": "ai-in-cities", "date": "2027-03-10"}


def _fails(**fields: object) -> str:
    with pytest.raises(ValidationError) as caught:
        MeetingCreate.model_validate({**BASE, **fields})
    return str(caught.value)


def test_a_date_is_written_yyyy_mm_dd_and_never_read_as_a_unix_time() -> None:
    assert MeetingCreate.model_validate(BASE).date == dt.date(2027, 3, 10)
    for value in (0, "0", "10/03/2027", "2027-3-10"):
        assert "date" in _fails(date=value)


def test_the_zone_is_kept_in_its_iana_spelling_and_geneva_does_not_exist() -> None:
    meeting = MeetingCreate.model_validate({**BASE, "timezone": "europe/zurich"})
    assert meeting.timezone == "Europe/Zurich"
    assert "timezone" in _fails(timezone="Europe/Geneva")


def test_times_come_both_or_neither_end_after_start_and_without_seconds() -> None:
    timed = MeetingCreate.model_validate({**BASE, "start_time": "14:00", "end_time": "15:30"})
    assert (timed.start_time, timed.end_time) == (dt.time(14), dt.time(15, 30))
    assert "end_time" in _fails(start_time="14:00")
    assert "end_time" in _fails(start_time="14:00", end_time="13:00")
    assert "start_time" in _fails(start_time="14:00:30", end_time="15:00")


def test_a_wall_clock_time_that_does_not_exist_in_geneva_is_refused() -> None:
    # 2027-03-28 02:30 is skipped in Europe/Zurich (clocks go from 02:00 to 03:00).
    assert "start_time" in _fails(date="2027-03-28", start_time="02:30", end_time="03:30")
    # 2027-10-31 02:30 happens twice: refused, not guessed.
    assert "start_time" in _fails(date="2027-10-31", start_time="02:30", end_time="04:00")


def test_text_fields_refuse_control_characters_and_keep_line_breaks_in_long_text() -> None:
    assert "title" in _fails(title="Kick-off\x07")
    assert "title" in _fails(title="   ")
    kept = MeetingCreate.model_validate({**BASE, "description": "one\r\ntwo\tthree"})
    assert kept.description == "one\ntwo\tthree"


def test_a_join_link_must_be_http_or_https() -> None:
    ok = MeetingCreate.model_validate({**BASE, "join_url": "https://itu.zoom.us/j/1"})
    assert ok.join_url == "https://itu.zoom.us/j/1"
    for value in ("javascript:alert(1)", "ftp://example.org/x", "https://"):
        assert "join_url" in _fails(join_url=value)


def test_an_update_model_takes_any_subset_and_refuses_unknown_fields() -> None:
    assert MeetingUpdate.model_validate({}).model_dump(exclude_unset=True) == {}
    patch = MeetingUpdate.model_validate({"title": "Moved"})
    assert patch.model_dump(exclude_unset=True) == {"title": "Moved"}
    with pytest.raises(ValidationError):
        MeetingUpdate.model_validate({"colour": "red"})
    with pytest.raises(ValidationError):
        GroupUpdate.model_validate({"slug": "renamed"})


def test_a_leader_is_a_name_with_an_optional_organisation() -> None:
    assert Leader(name="Okan Geray", affiliation="Digital Dubai").affiliation == "Digital Dubai"
    assert Leader(name="ITU").affiliation is None
    with pytest.raises(ValidationError):
        Leader.model_validate({"name": ""})
