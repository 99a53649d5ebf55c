"""Reads and writes of groups and meetings: the one place that changes the store.

Every write bumps the data revision, keeps the audit trail and commits as a whole.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, delete, select

from app import zones
from app.db import bump_revision
from app.models import (
    Change,
    Group,
    GroupCreate,
    GroupKind,
    GroupUpdate,
    Leader,
    Leadership,
    Meeting,
    MeetingCreate,
    MeetingFields,
    MeetingStatus,
    MeetingUpdate,
    Person,
)

# --- errors the routes and the command line turn into answers ----------------------------------


class NotFound(LookupError):
    pass


def _findable(key: str, what: str) -> None:
    """Refuse keys no row can have before asking: PostgreSQL rejects NUL in text outright."""
    if "\x00" in key or len(key) > 200:
        raise NotFound(f"no {what} {key[:200]!r}")


class Invalid(ValueError):
    """Input that is well-formed but wrong, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(ValueError):
    pass


class PreconditionFailed(ValueError):
    pass


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _after(previous: dt.datetime) -> dt.datetime:
    """Now, but at least a second after `previous`: feeds show whole seconds, and LAST-MODIFIED
    must rise with every change, even with two changes within one second."""
    if previous.tzinfo is None:
        previous = previous.replace(tzinfo=dt.UTC)
    return max(now(), previous.replace(microsecond=0) + dt.timedelta(seconds=1))


# --- groups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInfo:
    """What feeds and JSON need to know of a group, resolved once per request."""

    group: Group
    parent: Group | None
    leaders: tuple[Leader, ...]
    children: tuple[str, ...]

    @property
    def slug(self) -> str:
        return self.group.slug

    @property
    def label(self) -> str:
        """How calendars name the group: "AI in cities WG2 Autonomous Cities"."""
        own = self.group.short_name or self.group.name
        if self.parent is None:
            return own
        parent = self.parent.short_name or self.parent.name
        return f"{parent} {self.group.code} {self.group.name}" if self.group.code else own


def group_index(session: Session) -> dict[int, GroupInfo]:
    """Every group with its parent, leaders and working groups, keyed by id."""
    groups = session.exec(select(Group).order_by(col(Group.position), col(Group.id))).all()
    by_id = {g.id: g for g in groups if g.id is not None}
    leaders: dict[int, list[Leader]] = {}
    rows = session.exec(
        select(Leadership, Person)
        .join(Person, col(Person.id) == col(Leadership.person_id))
        .order_by(col(Leadership.group_id), col(Leadership.position))
    ).all()
    for leadership, person in rows:
        leaders.setdefault(leadership.group_id, []).append(
            # Stored values were checked on the way in: no need to validate them again.
            Leader.model_construct(name=person.name, affiliation=leadership.affiliation)
        )
    children: dict[int, list[str]] = {}
    for g in groups:
        if g.parent_id is not None:
            children.setdefault(g.parent_id, []).append(g.slug)
    return {
        gid: GroupInfo(
            group=g,
            parent=by_id.get(g.parent_id) if g.parent_id is not None else None,
            leaders=tuple(leaders.get(gid, [])),
            children=tuple(children.get(gid, [])),
        )
        for gid, g in by_id.items()
    }


def get_group(session: Session, slug: str) -> Group:
    _findable(slug, "group")
    group = session.exec(select(Group).where(Group.slug == slug)).first()
    if group is None:
        raise NotFound(f"no group {slug!r}")
    return group


def group_ids_covering(session: Session, slugs: Iterable[str]) -> set[int]:
    """The ids of the named groups and, for thematic ones, of their working groups."""
    ids: set[int] = set()
    for slug in dict.fromkeys(slugs):
        group = get_group(session, slug)
        assert group.id is not None
        ids.add(group.id)
        if group.kind == GroupKind.thematic:
            ids.update(
                gid
                for gid in session.exec(select(Group.id).where(Group.parent_id == group.id)).all()
                if gid is not None
            )
    return ids


def _set_leaders(session: Session, group: Group, leaders: Sequence[Leader]) -> None:
    assert group.id is not None
    session.exec(delete(Leadership).where(col(Leadership.group_id) == group.id))
    for position, leader in enumerate(leaders):
        person = session.exec(select(Person).where(Person.name == leader.name)).first()
        if person is None:
            person = Person(name=leader.name)
            session.add(person)
            session.flush()
        assert person.id is not None
        session.add(
            Leadership(
                group_id=group.id,
                position=position,
                person_id=person.id,
                affiliation=leader.affiliation,
            )
        )
    session.flush()


def _leaders_of(session: Session, group_id: int | None) -> list[Leader]:
    rows = session.exec(
        select(Leadership, Person)
        .join(Person, col(Person.id) == col(Leadership.person_id))
        .where(Leadership.group_id == group_id)
        .order_by(col(Leadership.position))
    ).all()
    return [Leader(name=person.name, affiliation=lead.affiliation) for lead, person in rows]


def group_snapshot(session: Session, group: Group) -> dict[str, Any]:
    parent = session.get(Group, group.parent_id) if group.parent_id is not None else None
    return {
        "slug": group.slug,
        "kind": group.kind,
        "code": group.code,
        "name": group.name,
        "short_name": group.short_name,
        "parent": parent.slug if parent else None,
        "status": group.status,
        "status_note": group.status_note,
        "leaders": [leader.model_dump() for leader in _leaders_of(session, group.id)],
        "secretariat": group.secretariat,
        "timeline": group.timeline,
        "expected_publication": group.expected_publication,
        "scope": group.scope,
        "notes": list(group.notes),
        "publications": list(group.publications),
    }


_LABEL_FIELDS = {"name", "short_name", "leaders"}


def create_group(session: Session, data: GroupCreate, actor: str, *, commit: bool = True) -> Group:
    if session.exec(select(Group.id).where(Group.slug == data.slug)).first() is not None:
        raise Conflict(f"slug: a group {data.slug!r} exists already")
    parent_id = None
    if data.parent is not None:
        parent = session.exec(select(Group).where(Group.slug == data.parent)).first()
        if parent is None:
            raise Invalid("parent", f"no group {data.parent!r}")
        if parent.kind != GroupKind.thematic:
            raise Invalid("parent", f"{data.parent!r} is a working group, not a thematic group")
        parent_id = parent.id
    stamp = now()
    position = session.exec(select(func.count()).select_from(Group)).one()
    group = Group(
        slug=data.slug,
        kind=data.kind,
        code=data.code,
        name=data.name,
        short_name=data.short_name,
        parent_id=parent_id,
        position=position,
        status=data.status,
        status_note=data.status_note,
        secretariat=data.secretariat,
        timeline=data.timeline,
        expected_publication=data.expected_publication,
        scope=data.scope,
        notes=list(data.notes or []),
        publications=list(data.publications or []),
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(group)
    session.flush()
    _set_leaders(session, group, data.leaders or [])
    _record(session, actor, "create", "group", group.slug, None, group_snapshot(session, group))
    _finish(session, commit)
    return group


def update_group(
    session: Session,
    slug: str,
    patch: GroupUpdate,
    actor: str,
    if_match: str | None = None,
    *,
    commit: bool = True,
) -> Group:
    _findable(slug, "group")
    group = session.exec(select(Group).where(Group.slug == slug).with_for_update()).first()
    if group is None:
        raise NotFound(f"no group {slug!r}")
    check_if_match(if_match, group_etag(group))
    before = group_snapshot(session, group)
    changes = patch.model_dump(exclude_unset=True)
    for listed in ("leaders", "notes", "publications"):
        # null empties a list; as stored (and compared) that is [].
        if listed in changes and changes[listed] is None:
            changes[listed] = []
    for required in ("name", "status"):
        if required in changes and changes[required] is None:
            raise Invalid(required, "must not be null")
    after = {**before, **changes}
    if after == before:
        return group
    for field, value in changes.items():
        if field == "leaders":
            _set_leaders(session, group, patch.leaders or [])
        elif field in ("notes", "publications"):
            setattr(group, field, list(value or []))
        else:
            setattr(group, field, value)
    group.version += 1
    group.updated_at = _after(group.updated_at)
    session.add(group)
    if any(before[f] != after[f] for f in _LABEL_FIELDS):
        _touch_meetings_of(session, group)
    _record(session, actor, "update", "group", group.slug, before, group_snapshot(session, group))
    _finish(session, commit)
    return group


def _touch_meetings_of(session: Session, group: Group) -> None:
    """Meetings whose summary or description show this group's name or leaders changed too."""
    ids = group_ids_covering(session, [group.slug])
    for meeting in session.exec(select(Meeting).where(col(Meeting.group_id).in_(ids))).all():
        meeting.sequence += 1
        meeting.version += 1
        meeting.updated_at = _after(meeting.updated_at)
        session.add(meeting)


def group_etag(group: Group, version: int | None = None) -> str:
    """The ETag of `group`, or of it as it was at `version` (a console form's version)."""
    return f'"g{group.id}-{group.version if version is None else version}"'


# --- meetings ----------------------------------------------------------------------------------


def get_meeting(session: Session, uid: str) -> Meeting:
    _findable(uid, "meeting")
    meeting = session.exec(select(Meeting).where(Meeting.uid == uid)).first()
    if meeting is None:
        raise NotFound(f"no meeting {uid!r}")
    return meeting


def meeting_etag(meeting: Meeting, version: int | None = None) -> str:
    """The ETag of `meeting`, or of it as it was at `version` (a console form's version)."""
    return f'"m{meeting.id}-{meeting.version if version is None else version}"'


def check_if_match(if_match: str | None, etag: str) -> None:
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag not in candidates:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the current ETag {etag}: "
            "someone changed it since you read it; read it again"
        )


def meeting_snapshot(session: Session, meeting: Meeting) -> dict[str, Any]:
    group = session.get(Group, meeting.group_id)
    return {
        "uid": meeting.uid,
        "group": group.slug if group else None,
        "title": meeting.title,
        "status": meeting.status,
        "date": meeting.date.isoformat(),
        "start_time": meeting.start_time.strftime("%H:%M") if meeting.start_time else None,
        "end_time": meeting.end_time.strftime("%H:%M") if meeting.end_time else None,
        "timezone": meeting.timezone,
        "description": meeting.description,
        "join_url": meeting.join_url,
        "sequence": meeting.sequence,
    }


def _apply_times(meeting: Meeting) -> None:
    """Derive the instants and the Geneva date from the wall clock: the single source of truth."""
    if meeting.start_time is None or meeting.end_time is None:
        meeting.start_utc = meeting.end_utc = None
        meeting.geneva_date = meeting.date
        return
    meeting.start_utc = zones.to_utc(meeting.date, meeting.start_time, meeting.timezone)
    meeting.end_utc = zones.to_utc(meeting.date, meeting.end_time, meeting.timezone)
    meeting.geneva_date = zones.local_date(meeting.start_utc)


def _group_for_meeting(session: Session, slug: str) -> Group:
    group = session.exec(select(Group).where(Group.slug == slug)).first()
    if group is None:
        raise Invalid("group", f"no group {slug!r}")
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
    group = _group_for_meeting(session, data.group)
    assert group.id is not None
    if uid is not None and session.exec(select(Meeting.id).where(Meeting.uid == uid)).first():
        raise Conflict(f"uid: a meeting {uid!r} exists already")
    stamp = now()
    meeting = Meeting(
        uid=uid or new_uid(session, group.slug, data.date),
        group_id=group.id,
        title=data.title,
        status=data.status,
        date=data.date,
        start_time=data.start_time,
        end_time=data.end_time,
        timezone=data.timezone,
        geneva_date=data.date,
        description=data.description,
        join_url=data.join_url,
        from_seed=from_seed,
        created_at=stamp,
        updated_at=stamp,
    )
    _apply_times(meeting)
    session.add(meeting)
    session.flush()
    _record(
        session, actor, "create", "meeting", meeting.uid, None, meeting_snapshot(session, meeting)
    )
    _finish(session, commit)
    return meeting


def _merged(session: Session, meeting: Meeting, changes: dict[str, Any]) -> MeetingFields:
    """The meeting as it would be after `changes`, checked as a whole."""
    current = meeting_snapshot(session, meeting)
    current.pop("uid")
    current.pop("sequence")
    current.update(changes)
    try:
        return MeetingFields.model_validate(current)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "body"
            message = str(first.get("msg", exc)).removeprefix("Value error, ")
            if ": " in message and not first.get("loc"):
                field, message = message.split(": ", 1)
            raise Invalid(field, message) from None
        raise


def update_meeting(
    session: Session, uid: str, patch: MeetingUpdate, actor: str, if_match: str | None = None
) -> Meeting:
    _findable(uid, "meeting")
    meeting = session.exec(select(Meeting).where(Meeting.uid == uid).with_for_update()).first()
    if meeting is None:
        raise NotFound(f"no meeting {uid!r}")
    check_if_match(if_match, meeting_etag(meeting))
    changes = patch.model_dump(exclude_unset=True)
    for required in ("group", "date", "timezone", "status"):
        if required in changes and changes[required] is None:
            raise Invalid(required, "must not be null")
    for key in ("start_time", "end_time"):
        if key in changes and changes[key] is not None:
            changes[key] = changes[key].strftime("%H:%M")
    if "date" in changes:
        changes["date"] = changes["date"].isoformat()
    return _change_meeting(session, meeting, _merged(session, meeting, changes), actor, "update")


def _change_meeting(
    session: Session,
    meeting: Meeting,
    fields: MeetingFields,
    actor: str,
    action: str,
    *,
    commit: bool = True,
) -> Meeting:
    before = meeting_snapshot(session, meeting)
    group = _group_for_meeting(session, fields.group)
    assert group.id is not None
    meeting.group_id = group.id
    for name in ("title", "status", "date", "start_time", "end_time", "timezone"):
        setattr(meeting, name, getattr(fields, name))
    meeting.description = fields.description
    meeting.join_url = fields.join_url
    _apply_times(meeting)
    after = meeting_snapshot(session, meeting)
    if after == before:
        return meeting
    meeting.sequence += 1
    meeting.version += 1
    meeting.updated_at = _after(meeting.updated_at)
    after["sequence"] = meeting.sequence
    session.add(meeting)
    _record(session, actor, action, "meeting", meeting.uid, before, after)
    _finish(session, commit)
    return meeting


def cancel_meeting(
    session: Session, uid: str, actor: str, if_match: str | None = None, *, commit: bool = True
) -> Meeting:
    """Cancel: the meeting stays, as cancelled; cancelling a cancelled meeting changes nothing."""
    _findable(uid, "meeting")
    meeting = session.exec(select(Meeting).where(Meeting.uid == uid).with_for_update()).first()
    if meeting is None:
        raise NotFound(f"no meeting {uid!r}")
    check_if_match(if_match, meeting_etag(meeting))
    if meeting.status == MeetingStatus.cancelled:
        return meeting
    fields = _merged(session, meeting, {"status": MeetingStatus.cancelled})
    return _change_meeting(session, meeting, fields, actor, "cancel", commit=commit)


def purge_meeting(session: Session, uid: str, actor: str) -> None:
    """Remove for good (the command line only): subscribers keep a stale copy."""
    meeting = get_meeting(session, uid)
    before = meeting_snapshot(session, meeting)
    session.delete(meeting)
    _record(session, actor, "purge", "meeting", uid, before, None)
    _finish(session, commit=True)


def _finish(session: Session, commit: bool) -> None:
    bump_revision(session)
    session.flush()
    if commit:
        session.commit()


@dataclass(frozen=True)
class MeetingQuery:
    group_ids: set[int] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    statuses: tuple[str, ...] = ()
    visible_cancelled_from: dt.date | None = None


def _meeting_filter(query: MeetingQuery) -> list[Any]:
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
    clauses = _meeting_filter(query)
    total = session.exec(select(func.count()).select_from(Meeting).where(*clauses)).one()
    statement = select(Meeting).where(*clauses).order_by(*MEETING_ORDER).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all()), total


# --- audit -------------------------------------------------------------------------------------


def _record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        Change(
            at=now(), actor=actor, action=action, entity=entity, key=key, before=before, after=after
        )
    )


def list_changes(session: Session, limit: int = 100, offset: int = 0) -> tuple[list[Change], int]:
    total = session.exec(select(func.count()).select_from(Change)).one()
    rows = session.exec(
        select(Change).order_by(col(Change.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total
