"""What every write shares: the errors routes and the CLI turn into answers, the clock,
If-Match, the audit record, and finishing a write (revision bumped, committed)."""

from __future__ import annotations

import datetime as dt
from itertools import chain
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.core.conditional import etag_list
from app.core.db import bump_revision, take_revision
from app.models import Change, Meeting


class NotFound(LookupError):
    pass


def findable(key: str, what: str) -> None:
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


def later_than(previous: dt.datetime) -> dt.datetime:
    """Now, but at least a second after `previous`: feeds show whole seconds, and LAST-MODIFIED
    must rise with every change, even with two changes within one second."""
    if previous.tzinfo is None:
        previous = previous.replace(tzinfo=dt.UTC)
    return max(now(), previous.replace(microsecond=0) + dt.timedelta(seconds=1))


def check_if_match(if_match: str | None, etag: str) -> None:
    if if_match is None:
        return
    candidates = etag_list(if_match)
    if "*" not in candidates and etag not in candidates:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the current ETag {etag}: "
            "someone changed it since you read it; read it again"
        )


@event.listens_for(OrmSession, "before_flush")
def _mark_meeting_writes(session: Session, _context: object, _instances: object) -> None:
    """Every meeting written carries its transaction's revision, however it was written: feeds
    re-read only the meetings marked after their last render (app.feeds.selection). A deletion
    raises the revision too; feeds see it in their count."""
    written = [
        m
        for m in chain(session.new, session.dirty)
        if isinstance(m, Meeting) and (m in session.new or session.is_modified(m))
    ]
    if written or any(isinstance(m, Meeting) for m in session.deleted):
        revision = take_revision(session)
        for meeting in written:
            meeting.revision = revision


def finish(session: Session, commit: bool) -> None:
    bump_revision(session)
    session.flush()
    if commit:
        session.commit()


def record(
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
