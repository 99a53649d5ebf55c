"""Reads and writes of groups and their leaders; every write is audited and bumps the revision."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

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
    GROUP_FIELDS,
    Group,
    GroupCreate,
    GroupKind,
    GroupUpdate,
    Leader,
    Leadership,
    Meeting,
    Person,
)


def get_group(session: Session, slug: str) -> Group:
    findable(slug, "group")
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


def group_ids_in_query(session: Session, slugs: Iterable[str]) -> set[int]:
    """As group_ids_covering, for groups a request names: one that does not exist is input
    that is wrong (Invalid, a 422 naming `group`), not a missing resource."""
    try:
        return group_ids_covering(session, slugs)
    except NotFound as exc:
        raise Invalid("group", str(exc)) from None


def set_leaders(session: Session, group: Group, leaders: Sequence[Leader]) -> None:
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


def leaders_of(session: Session, group_id: int | None) -> list[Leader]:
    rows = session.exec(
        select(Leadership, Person)
        .join(Person, col(Person.id) == col(Leadership.person_id))
        .where(Leadership.group_id == group_id)
        .order_by(col(Leadership.position))
    ).all()
    return [Leader(name=person.name, affiliation=lead.affiliation) for lead, person in rows]


def group_snapshot(session: Session, group: Group) -> dict[str, Any]:
    """The group as its audit trail records it: the family's GROUP_FIELDS, plain values."""
    snapshot: dict[str, Any] = {}
    for name in GROUP_FIELDS:
        if name == "parent":
            parent = session.get(Group, group.parent_id) if group.parent_id is not None else None
            snapshot[name] = parent.slug if parent else None
        elif name == "leaders":
            snapshot[name] = [leader.model_dump() for leader in leaders_of(session, group.id)]
        elif name in ("notes", "publications"):
            snapshot[name] = list(getattr(group, name))
        elif name == "translations":
            snapshot[name] = {lang: dict(texts) for lang, texts in group.translations.items()}
        else:
            snapshot[name] = getattr(group, name)
    return snapshot


_LABEL_FIELDS = {"name", "short_name", "leaders"}
# What a new group's row takes from GroupCreate as it is; parent, leaders, lists and
# translations need work.
_STORED_FIELDS = tuple(
    name
    for name in GROUP_FIELDS
    if name not in ("parent", "leaders", "notes", "publications", "translations")
)


def _names(snapshot: dict[str, Any]) -> dict[str, str]:
    """The group's name in each language that has one: what its meetings' events show."""
    translations = snapshot["translations"]
    return {lang: texts["name"] for lang, texts in translations.items() if "name" in texts}


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
    stored = {name: getattr(data, name) for name in _STORED_FIELDS}
    group = Group(
        **stored,
        notes=list(data.notes or []),
        publications=list(data.publications or []),
        translations=data.translations or {},
        parent_id=parent_id,
        position=position,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(group)
    session.flush()
    set_leaders(session, group, data.leaders or [])
    record(session, actor, "create", "group", group.slug, None, group_snapshot(session, group))
    finish(session, commit)
    return group


def update_group(
    session: Session,
    slug: str,
    patch: GroupUpdate,
    actor: str,
    expected: Expected = None,
    *,
    commit: bool = True,
) -> Group:
    findable(slug, "group")
    group = session.exec(select(Group).where(Group.slug == slug).with_for_update()).first()
    if group is None:
        raise NotFound(f"no group {slug!r}")
    before = group_snapshot(session, group)
    check_expected(expected, group_etag(group), group.version, before)
    changes = patch.model_dump(exclude_unset=True)
    for listed in ("leaders", "notes", "publications"):
        # null empties a list; as stored (and compared) that is [].
        if listed in changes and changes[listed] is None:
            changes[listed] = []
    if "translations" in changes and changes["translations"] is None:
        changes["translations"] = {}  # the object given replaces the stored one
    for required in ("name", "status"):
        if required in changes and changes[required] is None:
            raise Invalid(required, N_("must not be null"))
    after = {**before, **changes}
    if after == before:
        return group
    for field, value in changes.items():
        if field == "leaders":
            set_leaders(session, group, patch.leaders or [])
        elif field in ("notes", "publications"):
            setattr(group, field, list(value or []))
        else:
            setattr(group, field, value)
    group.version += 1
    group.updated_at = later_than(group.updated_at)
    session.add(group)
    # A translated name shows in that language's events: a change its subscribers see.
    if any(before[f] != after[f] for f in _LABEL_FIELDS) or _names(before) != _names(after):
        touch_meetings_of(session, group)
    record(session, actor, "update", "group", group.slug, before, group_snapshot(session, group))
    finish(session, commit)
    return group


def touch_meetings_of(session: Session, group: Group) -> None:
    """Meetings whose summary or description show this group's name or leaders changed too."""
    ids = group_ids_covering(session, [group.slug])
    for meeting in session.exec(select(Meeting).where(col(Meeting.group_id).in_(ids))).all():
        meeting.sequence += 1
        meeting.version += 1
        meeting.updated_at = later_than(meeting.updated_at)
        session.add(meeting)


def group_etag(group: Group) -> str:
    return f'"g{group.id}-{group.version}"'
