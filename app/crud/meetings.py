"""Reads and writes of meetings: the wall clock is the truth, instants follow from it; which
meetings a query selects, in the order every list and feed uses."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.core import validation
from app.core.db import lock_revision
from app.core.words import N_
from app.crud.common import (
    Conflict,
    Expected,
    Invalid,
    NotFound,
    check_expected,
    findable,
    finish,
    later_than,
    now,
    record,
)
from app.models import (
    MEETING_FIELDS,
    MEETING_SNAPSHOT_FIELDS,
    Group,
    Meeting,
    MeetingCreate,
    MeetingFields,
    MeetingStatus,
    MeetingUpdate,
    clock_text,
)
from app.timezone import zones


def get_meeting(session: Session, uid: str) -> Meeting:
    findable(uid, "meeting")
    meeting = session.exec(select(Meeting).where(Meeting.uid == uid)).first()
    if meeting is None:
        raise NotFound(f"no meeting {uid!r}")
    return meeting


def meeting_etag(meeting: Meeting) -> str:
    return f'"m{meeting.id}-{meeting.version}"'


def meeting_snapshot(session: Session, meeting: Meeting) -> dict[str, Any]:
    """The meeting as its audit trail records it: MEETING_SNAPSHOT_FIELDS, plain values."""
    snapshot: dict[str, Any] = {}
    for name in MEETING_SNAPSHOT_FIELDS:
        if name == "group":  # the row holds group_id; the trail names the group's slug
            group = session.get(Group, meeting.group_id)
            snapshot[name] = group.slug if group else None
            continue
        value = getattr(meeting, name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, dt.time):
            value = clock_text(value)
        elif isinstance(value, dict):  # translations: a copy, compared after the write
            value = {lang: dict(texts) for lang, texts in value.items()}
        snapshot[name] = value
    return snapshot


def apply_times(meeting: Meeting) -> None:
    """Derive the instants and the Geneva date from the wall clock: the single source of truth."""
    if meeting.start_time is None or meeting.end_time is None:
        meeting.start_utc = meeting.end_utc = None
        meeting.geneva_date = meeting.date
        return
    meeting.start_utc = zones.to_utc(meeting.date, meeting.start_time, meeting.timezone)
    meeting.end_utc = zones.to_utc(meeting.date, meeting.end_time, meeting.timezone)
    meeting.geneva_date = zones.local_date(meeting.start_utc)


def group_for_meeting(session: Session, slug: str) -> Group:
    group = session.exec(select(Group).where(Group.slug == slug)).first()
    if group is None:
        raise Invalid("group", N_("no group %(slug)s") % {"slug": repr(slug)})
    return group


def new_uid(session: Session, group_slug: str, day: dt.date) -> str:
    while True:
        uid = f"{group_slug}-{day.isoformat()}-{secrets.token_hex(3)}"
        if session.exec(select(Meeting.id).where(Meeting.uid == uid)).first() is None:
            return uid


def create_meeting(
    session: Session,
    data: MeetingCreate,
    actor: str,
    uid: str | None = None,
    *,
    from_seed: bool = False,
    commit: bool = True,
) -> Meeting:
    group = group_for_meeting(session, data.group)
    assert group.id is not None
    if uid is not None and session.exec(select(Meeting.id).where(Meeting.uid == uid)).first():
        raise Conflict(f"uid: a meeting {uid!r} exists already")
    stamp = now()
    meeting = Meeting(
        **{name: getattr(data, name) for name in MEETING_FIELDS},
        uid=uid or new_uid(session, group.slug, data.date),
        group_id=group.id,
        geneva_date=data.date,
        from_seed=from_seed,
        created_at=stamp,
        updated_at=stamp,
    )
    apply_times(meeting)
    session.add(meeting)
    session.flush()
    record(
        session, actor, "create", "meeting", meeting.uid, None, meeting_snapshot(session, meeting)
    )
    finish(session, commit)
    return meeting


def merged(before: dict[str, Any], changes: dict[str, Any]) -> MeetingFields:
    """The meeting as it would be after `changes` (over its snapshot), checked as a whole."""
    current = {k: v for k, v in before.items() if k not in ("uid", "sequence")}
    current.update(changes)
    try:
        return MeetingFields.model_validate(current)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "body"
            message = validation.message(first, str(exc))
            named = validation.named_field(message)
            if named is not None and not first.get("loc"):
                field, message = named
            raise Invalid(field, message) from None
        raise


def _locked(session: Session, uid: str, expected: Expected) -> tuple[Meeting, dict[str, Any]]:
    """The meeting, locked for the write, and its snapshot: the write's one read. Refused when
    it is no longer what the writer read (`expected`)."""
    findable(uid, "meeting")
    lock_revision(session)  # before the meeting's row: see app.core.db.lock_revision
    meeting = session.exec(select(Meeting).where(Meeting.uid == uid).with_for_update()).first()
    if meeting is None:
        raise NotFound(f"no meeting {uid!r}")
    before = meeting_snapshot(session, meeting)
    check_expected(expected, meeting_etag(meeting), meeting.version, before)
    return meeting, before


def update_meeting(
    session: Session, uid: str, patch: MeetingUpdate, actor: str, expected: Expected = None
) -> Meeting:
    meeting, before = _locked(session, uid, expected)
    changes = patch.model_dump(exclude_unset=True)
    for required in ("group", "date", "timezone", "status"):
        if required in changes and changes[required] is None:
            raise Invalid(required, N_("must not be null"))
    for key in ("start_time", "end_time"):
        if key in changes and changes[key] is not None:
            changes[key] = changes[key].strftime("%H:%M")
    if "date" in changes:
        changes["date"] = changes["date"].isoformat()
    fields = merged(before, changes)
    return change_meeting(session, meeting, fields, actor, "update", before=before)


def change_meeting(
    session: Session,
    meeting: Meeting,
    fields: MeetingFields,
    actor: str,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    commit: bool = True,
) -> Meeting:
    """Write `fields` over `meeting` (`before` is its snapshot, when the caller has it)."""
    if before is None:
        before = meeting_snapshot(session, meeting)
    group = group_for_meeting(session, fields.group)
    assert group.id is not None
    meeting.group_id = group.id
    for name in MEETING_FIELDS:
        setattr(meeting, name, getattr(fields, name))
    apply_times(meeting)
    after = meeting_snapshot(session, meeting)
    if after == before:
        return meeting
    meeting.sequence += 1
    meeting.version += 1
    meeting.updated_at = later_than(meeting.updated_at)
    after["sequence"] = meeting.sequence
    session.add(meeting)
    record(session, actor, action, "meeting", meeting.uid, before, after)
    finish(session, commit)
    return meeting


def cancel_meeting(
    session: Session, uid: str, actor: str, expected: Expected = None, *, commit: bool = True
) -> Meeting:
    """Cancel: the meeting stays, as cancelled; cancelling a cancelled meeting changes nothing."""
    meeting, before = _locked(session, uid, expected)
    if meeting.status == MeetingStatus.cancelled:
        return meeting
    fields = merged(before, {"status": MeetingStatus.cancelled})
    return change_meeting(session, meeting, fields, actor, "cancel", before=before, commit=commit)


def purge_meeting(session: Session, uid: str, actor: str) -> None:
    """Remove for good (the command line only): subscribers keep a stale copy."""
    meeting = get_meeting(session, uid)
    before = meeting_snapshot(session, meeting)
    session.delete(meeting)
    record(session, actor, "purge", "meeting", uid, before, None)
    finish(session, commit=True)


@dataclass(frozen=True)
class MeetingQuery:
    group_ids: set[int] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    statuses: tuple[str, ...] = ()
    visible_cancelled_from: dt.date | None = None


def meeting_filter(query: MeetingQuery) -> list[Any]:
    clauses: list[Any] = []
    if query.group_ids is not None:
        clauses.append(col(Meeting.group_id).in_(query.group_ids))
    if query.start is not None:
        clauses.append(col(Meeting.geneva_date) >= query.start)
    if query.end is not None:
        clauses.append(col(Meeting.geneva_date) <= query.end)
    if query.statuses:
        clauses.append(col(Meeting.status).in_(query.statuses))
    if query.visible_cancelled_from is not None:
        clauses.append(
            or_(
                col(Meeting.status) != MeetingStatus.cancelled,
                col(Meeting.geneva_date) >= query.visible_cancelled_from,
            )
        )
    return clauses


MEETING_ORDER = (
    col(Meeting.geneva_date),
    col(Meeting.start_utc).is_not(None),
    col(Meeting.start_utc),
    col(Meeting.uid),
)


def list_meetings(
    session: Session, query: MeetingQuery, limit: int | None = None, offset: int = 0
) -> tuple[list[Meeting], int]:
    clauses = meeting_filter(query)
    total = session.exec(select(func.count()).select_from(Meeting).where(*clauses)).one()
    statement = select(Meeting).where(*clauses).order_by(*MEETING_ORDER).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all()), total
