"""The read model of groups: each with its parent, leaders and working groups, loaded in one
pass, as feeds, pages and the JSON read them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.i18n.languages import DEFAULT
from app.models import Group, Leader, Leadership, Person, text_in


def name_in(group: Group, lang: str) -> str:
    """The group's name for a reader of `lang`: its translation, else the English name."""
    return text_in(group.translations, "name", lang, group.name)[0]


def short_in(group: Group, lang: str) -> str:
    """What a label calls the group in `lang`: the short name (an English one) only where the
    name is not translated, else the translated name."""
    name, found = text_in(group.translations, "name", lang, group.name)
    return name if found != DEFAULT else group.short_name or group.name


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
        return self.label_in(DEFAULT)

    def label_in(self, lang: str) -> str:
        """The label in `lang`, from the translated names where there are some."""
        own = short_in(self.group, lang)
        if self.parent is None:
            return own
        parent = short_in(self.parent, lang)
        name = name_in(self.group, lang)
        return f"{parent} {self.group.code} {name}" if self.group.code else own


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
