"""What the console shows beside its forms: the dashboard's concerns and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from app import crud
from app.core.words import N_
from app.delivery import outbox
from app.i18n import catalogs
from app.i18n.languages import DEFAULT
from app.models import Change, Group, GroupStatus, Meeting, MeetingStatus, OutboxMessage
from app.readmodel.groups import group_index
from app.readmodel.links import status_words

# --- words ------------------------------------------------------------------------------------

# Each field as the forms, the conflict banner and the audit trail name it.
FIELD_LABELS = {
    "group": N_("Group"),
    "groups": N_("Groups"),
    "email": N_("Email"),
    "date": N_("Date"),
    "start_time": N_("Start time"),
    "end_time": N_("End time"),
    "timezone": N_("Time zone"),
    "title": N_("Title"),
    "description": N_("Description"),
    "join_url": N_("Join link"),
    "status": N_("Status"),
    "status_note": N_("Status note"),
    "leaders": N_("Leaders"),
    "scope": N_("Scope"),
    "timeline": N_("Timeline"),
    "expected_publication": N_("Expected publication"),
    "publications": N_("Publications"),
    "notes": N_("Notes"),
    "announce": N_("Announce to the mailing list"),
    "form": N_("Form"),
    "slug": N_("Id"),
    "kind": N_("Kind"),
    "name": N_("Name"),
    "short_name": N_("Short name"),
    "code": N_("Code"),
    "parent": N_("Thematic group"),
    "secretariat": N_("Secretariat"),
    "position": N_("Place in the plan"),
    "translations": N_("Translations"),
}


SEED_ACTOR = crud.SEED_ACTOR
THE_PLAN = N_("the action plan")
# What happened, and by whom: "changed by maria"; by the seed, "updated from the action plan".
DONE_BY = {
    "create": N_("created by %(who)s"),
    "update": N_("changed by %(who)s"),
    "cancel": N_("cancelled by %(who)s"),
    "seed": N_("updated from the action plan by %(who)s"),
    "purge": N_("removed for good by %(who)s"),
}
DONE_BY_PLAN = {
    "create": N_("created from the action plan"),
    "update": N_("changed from the action plan"),
    "cancel": N_("cancelled from the action plan"),
    "seed": N_("updated from the action plan"),
    "purge": N_("removed for good from the action plan"),
}
# The audit trail's "what": "Created meeting", "Changed group".
DONE_TO = {
    ("create", "meeting"): N_("Created meeting"),
    ("update", "meeting"): N_("Changed meeting"),
    ("cancel", "meeting"): N_("Cancelled meeting"),
    ("seed", "meeting"): N_("Updated from the action plan: meeting"),
    ("purge", "meeting"): N_("Removed for good: meeting"),
    ("create", "group"): N_("Created group"),
    ("update", "group"): N_("Changed group"),
    ("cancel", "group"): N_("Cancelled group"),
    ("seed", "group"): N_("Updated from the action plan: group"),
    ("purge", "group"): N_("Removed for good: group"),
}


# --- the dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """How the outbox fares: what waits, what is being retried, what was given up, and the
    newest error, so an SMTP outage shows on the dashboard, not only in `outbox list`."""

    pending: int
    retrying: int
    failed: int
    last_error: str | None
    last_error_target: str | None

    @property
    def troubled(self) -> bool:
        return bool(self.retrying or self.failed)


def delivery(session: Session) -> Delivery:
    pending = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.status) == outbox.PENDING)
    ).one()
    week_ago = outbox.utcnow() - dt.timedelta(days=7)
    failed = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            col(OutboxMessage.status) == outbox.FAILED, col(OutboxMessage.created_at) >= week_ago
        )
    ).one()
    retrying = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            col(OutboxMessage.status) == outbox.PENDING, col(OutboxMessage.last_error).is_not(None)
        )
    ).one()
    newest = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.last_error).is_not(None))
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    ).first()
    return Delivery(
        pending=int(pending),
        retrying=int(retrying),
        failed=int(failed),  # given up in the last week
        last_error=newest.last_error if newest else None,
        last_error_target=(newest.kind if newest else None),
    )


@dataclass(frozen=True)
class GroupConcern:
    slug: str
    name: str
    status: str
    reason: str  # words; "%(status)s" stands for the status, "%(num)s" for a count
    count: int = 0

    def because(self, labels: Mapping[str, str], lang: str = DEFAULT) -> str:
        """The reason in `lang`, with the status as `labels` (in that language) say it."""
        ngettext = catalogs.plural_translator(lang)
        if self.reason == MET:
            words = ngettext(
                "has held %(num)s meeting but is still “%(status)s”",
                "has held %(num)s meetings but is still “%(status)s”",
                self.count,
            )
        elif self.reason == TO_COME:
            words = ngettext(
                "is “%(status)s” but has %(num)s meeting to come",
                "is “%(status)s” but has %(num)s meetings to come",
                self.count,
            )
        else:
            words = catalogs.translator(lang)(self.reason)
        status = labels.get(self.status, self.status)
        return words % {"status": status, "num": self.count}


# The reasons with a count, worded in `because`.
MET = "met"
TO_COME = "to come"


def groups_to_look_at(session: Session, today: dt.date) -> list[GroupConcern]:
    """Groups whose status may no longer be true, judged from their meetings."""
    concerns = []
    for info in group_index(session).values():
        group = info.group
        ids = crud.group_ids_covering(session, [group.slug])
        live = (col(Meeting.group_id).in_(ids), col(Meeting.status) != MeetingStatus.cancelled)
        past = session.exec(
            select(func.count()).select_from(Meeting).where(*live, Meeting.geneva_date < today)
        ).one()
        upcoming = session.exec(
            select(func.count()).select_from(Meeting).where(*live, Meeting.geneva_date >= today)
        ).one()
        reason, count = None, 0
        if group.status in (GroupStatus.proposed, GroupStatus.to_be_kicked_off) and past:
            reason, count = MET, int(past)
        elif group.status in (GroupStatus.completed, GroupStatus.closed) and upcoming:
            reason, count = TO_COME, int(upcoming)
        elif group.status == GroupStatus.ongoing and not upcoming:
            reason = N_("is ongoing but has no upcoming meeting")
        if reason:
            concerns.append(GroupConcern(group.slug, info.label, group.status, reason, count))
    return concerns


# --- the audit trail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeView:
    change: Change
    differences: list[tuple[str, Any, Any]]
    lang: str = DEFAULT

    @property
    def who(self) -> str:
        if self.change.actor == SEED_ACTOR:
            return catalogs.translator(self.lang)(THE_PLAN)
        return self.change.actor

    @property
    def said(self) -> str:
        """ "created from the action plan", "changed by maria": what happened, by whom."""
        _ = catalogs.translator(self.lang)
        action = self.change.action
        if self.change.actor == SEED_ACTOR:
            return _(DONE_BY_PLAN[action]) if action in DONE_BY_PLAN else action
        words = DONE_BY.get(action)
        return _(words) % {"who": self.change.actor} if words else action

    @property
    def what(self) -> str:
        """ "Created meeting", "Changed group"."""
        words = DONE_TO.get((self.change.action, self.change.entity))
        if words is None:
            return f"{self.change.action} {self.change.entity}"
        return catalogs.translator(self.lang)(words)

    @property
    def link(self) -> str:
        if self.change.entity == "meeting" and self.change.action != "purge":
            return f"/admin/meetings/{self.change.key}"
        return f"/admin/groups/{self.change.key}"


def _change_view(change: Change, lang: str) -> ChangeView:
    before, after = change.before or {}, change.after or {}
    names = [*after, *(name for name in before if name not in after)]
    differences = [
        (name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
        and name not in ("sequence", "uid")
        # A creation lists what it was given, not every empty field.
        and (change.action != "create" or after.get(name) not in (None, "", []))
    ]
    return ChangeView(change, differences, lang)


AUDIT_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What the audit trail shows: a group (with its working groups and their meetings), one
    meeting or group by its key, one person; a page of AUDIT_PAGE, newest first."""

    group: str | None = None
    key: str | None = None
    actor: str | None = None
    page: int = 1


def recent_changes(
    session: Session,
    shown_: AuditFilter = AuditFilter(),
    limit: int = AUDIT_PAGE,
    lang: str = DEFAULT,
) -> tuple[list[ChangeView], int]:
    """A page of the audit trail, newest first, and how many changes the filter finds."""
    conditions: list[Any] = []
    if shown_.group is not None:
        ids = crud.group_ids_covering(session, [shown_.group])
        slugs = session.exec(select(Group.slug).where(col(Group.id).in_(ids))).all()
        uids = session.exec(select(Meeting.uid).where(col(Meeting.group_id).in_(ids))).all()
        conditions.append(col(Change.key).in_([*slugs, *uids]))
    if shown_.key:
        conditions.append(col(Change.key) == shown_.key)
    if shown_.actor:
        conditions.append(col(Change.actor) == shown_.actor)
    total = session.exec(select(func.count()).select_from(Change).where(*conditions)).one()
    statement = (
        select(Change)
        .where(*conditions)
        .order_by(col(Change.id).desc())
        .offset((max(shown_.page, 1) - 1) * limit)
        .limit(limit)
    )
    views = [_change_view(change, lang) for change in session.exec(statement).all()]
    return views, int(total)


def actors(session: Session) -> list[str]:
    """Everyone who has changed something, for the audit trail's filter."""
    return sorted(session.exec(select(Change.actor).distinct()).all())


def last_change_of(session: Session, key: str) -> Change | None:
    return session.exec(
        select(Change).where(Change.key == key).order_by(col(Change.id).desc()).limit(1)
    ).first()


def shown(value: Any, name: str | None = None, lang: str = DEFAULT) -> str:
    """A value of the audit trail or of a conflict as one line of text; a status as people say
    it ("To be kicked off")."""
    if value is None or value == [] or value == "":
        return catalogs.translator(lang)(N_("(none)"))
    if name == "status" and isinstance(value, str):
        return status_words(value, lang)
    if isinstance(value, dict):  # texts per language: "fr: Lancement / Ordre du jour"
        return "; ".join(
            f"{code}: " + " / ".join(str(text) for text in texts.values())
            for code, texts in value.items()
            if isinstance(texts, dict)
        )
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                name, affiliation = item.get("name"), item.get("affiliation")
                parts.append(f"{name} ({affiliation})" if affiliation else str(name))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(value)
