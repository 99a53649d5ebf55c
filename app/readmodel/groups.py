"""The read model of groups: each with its parent, leaders and working groups, loaded in one
pass, as feeds, pages and the JSON read them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models import Group, Leader, Leadership, Person


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


def group_versions(session: Session) -> list[tuple[int, int]]:
    """Each group's (id, version): any change of a group, its leaders or its parent raises
    its version (app.crud.groups), so an index loaded at these versions is still right."""
    rows = session.execute(select(Group.id, Group.version).order_by(col(Group.id)))
    return [(int(gid), int(version)) for gid, version in rows]


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
