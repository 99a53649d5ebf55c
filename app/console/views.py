"""What the console shows beside its forms: the dashboard's concerns and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from app import crud
from app.delivery import outbox
from app.models import Change, Group, GroupStatus, Meeting, MeetingStatus, OutboxMessage
from app.readmodel.groups import group_index

# --- words ------------------------------------------------------------------------------------

# Each field as the forms, the conflict banner and the audit trail name it.
FIELD_LABELS = {
    "group": "Group",
    "date": "Date",
    "start_time": "Start time",
    "end_time": "End time",
    "timezone": "Time zone",
    "title": "Title",
    "description": "Description",
    "join_url": "Join link",
    "status": "Status",
    "status_note": "Status note",
    "leaders": "Leaders",
    "scope": "Scope",
    "timeline": "Timeline",
    "expected_publication": "Expected publication",
    "publications": "Publications",
    "notes": "Notes",
    "announce": "Announce to the mailing list",
    "form": "Form",
    "slug": "Id",
    "kind": "Kind",
    "name": "Name",
    "short_name": "Short name",
    "code": "Code",
    "parent": "Thematic group",
    "secretariat": "Secretariat",
    "position": "Place in the plan",
}


SEED_ACTOR = crud.SEED_ACTOR
ACTIONS = {
    "create": "created",
    "update": "changed",
    "cancel": "cancelled",
    "seed": "updated from the action plan",
    "purge": "removed for good",
}


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def meetings(count: int) -> str:
    return "one meeting" if count == 1 else f"{count} meetings"


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
    reason: str  # "{status}" stands for the status, in words

    def because(self, labels: Mapping[str, str]) -> str:
        return self.reason.format(status=labels.get(self.status, self.status))


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
        reason = None
        if group.status in (GroupStatus.proposed, GroupStatus.to_be_kicked_off) and past:
            reason = f"has met {times(past)} but is still “{{status}}”"
        elif group.status in (GroupStatus.completed, GroupStatus.closed) and upcoming:
            reason = f"is “{{status}}” but has {meetings(upcoming)} to come"
        elif group.status == GroupStatus.ongoing and not upcoming:
            reason = "is ongoing but has no upcoming meeting"
        if reason:
            concerns.append(GroupConcern(group.slug, info.label, group.status, reason))
    return concerns


# --- the audit trail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeView:
    change: Change
    differences: list[tuple[str, Any, Any]]

    @property
    def who(self) -> str:
        return "the action plan" if self.change.actor == SEED_ACTOR else self.change.actor

    @property
    def said(self) -> str:
        """ "created from the action plan", "changed by maria": what happened, by whom."""
        action = ACTIONS.get(self.change.action, self.change.action)
        if self.change.actor == SEED_ACTOR:
            return "created from the action plan" if self.change.action == "create" else action
        return f"{action} by {self.change.actor}"

    @property
    def what(self) -> str:
        """ "Created meeting", "Changed group"."""
        action = ACTIONS.get(self.change.action, self.change.action)
        return f"{action.capitalize()} {self.change.entity}"

    @property
    def link(self) -> str:
        if self.change.entity == "meeting" and self.change.action != "purge":
            return f"/admin/meetings/{self.change.key}"
        return f"/admin/groups/{self.change.key}"


def _change_view(change: Change) -> ChangeView:
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
    return ChangeView(change, differences)


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
    session: Session, shown_: AuditFilter = AuditFilter(), limit: int = AUDIT_PAGE
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
    return [_change_view(change) for change in session.exec(statement).all()], int(total)


def actors(session: Session) -> list[str]:
    """Everyone who has changed something, for the audit trail's filter."""
    return sorted(session.exec(select(Change.actor).distinct()).all())


def last_change_of(session: Session, key: str) -> Change | None:
    return session.exec(
        select(Change).where(Change.key == key).order_by(col(Change.id).desc()).limit(1)
    ).first()


def shown(value: Any, name: str | None = None) -> str:
    """A value of the audit trail or of a conflict as one line of text; a status as people say
    it ("To be kicked off")."""
    if value is None or value == [] or value == "":
        return "(none)"
    if name == "status" and isinstance(value, str):
        return value.replace("_", " ").capitalize()
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
