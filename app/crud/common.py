"""What every write shares: the errors routes and the CLI turn into answers, the clock,
If-Match, the audit record, and finishing a write (revision bumped, committed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
    """The row changed since the writer read it; carries the row as it is now (its version and
    audit snapshot), so a conflict page needs no second read."""

    def __init__(self, message: str, version: int = 0, snapshot: dict[str, Any] | None = None):
        super().__init__(message)
        self.version = version
        self.snapshot = snapshot or {}


# The actor of every write the seed file makes (app.store.seeding); the console says "the action
# plan" for it.
SEED_ACTOR = "seed"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def later_than(previous: dt.datetime) -> dt.datetime:
    """Now, but at least a second after `previous`: feeds show whole seconds, and LAST-MODIFIED
    must rise with every change, even with two changes within one second."""
    if previous.tzinfo is None:
        previous = previous.replace(tzinfo=dt.UTC)
    return max(now(), previous.replace(microsecond=0) + dt.timedelta(seconds=1))


# What a writer read before writing: an If-Match header (the API), the version a console form
# was opened at, or nothing (write whatever is there).
Expected = str | int | None


def check_expected(expected: Expected, etag: str, version: int, snapshot: dict[str, Any]) -> None:
    """Refuse the write when the row is no longer what the writer read."""
    if expected is None:
        return
    if isinstance(expected, int):
        if expected == version:
            return
        message = (
            f"it was saved by someone else since you opened it (version {expected}, now {version})"
        )
    else:
        candidates = etag_list(expected)
        if "*" in candidates or etag in candidates:
            return
        message = (
            f"If-Match {expected} does not match the current ETag {etag}: "
            "someone changed it since you read it; read it again"
        )
    raise PreconditionFailed(message, version, snapshot)


# --- what every write does besides its own rows ----------------------------------------------
# All in the write's transaction, whichever way the write came (API, console, command line,
# seed), in this order:
# 1. each meeting written carries the transaction's revision (`_mark_meeting_writes`, before
#    every flush): feeds re-read only the meetings marked since their last render;
# 2. the write's audit records are kept (`record`) and the data revision rises (`finish`);
# 3. `finish` hands the audit records to each WRITE_EFFECTS function: app.delivery.notify
#    registers the one that turns them into outbox rows (webhook calls, announcements);
# 4. after the commit, the revision watcher wakes (app.core.revision_watch, on after_commit)
#    and the next poll renders again.

WriteEffect = Callable[[Session, list[Change]], None]
WRITE_EFFECTS: list[WriteEffect] = []
_RECORDED = "u4ssc.crud.recorded"


def on_write(effect: WriteEffect) -> WriteEffect:
    """Register `effect` to run in every write's transaction, after its rows are flushed."""
    WRITE_EFFECTS.append(effect)
    return effect


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


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """The audit trail's line for a write; `finish` hands it to the write effects."""
    change = Change(
        at=now(), actor=actor, action=action, entity=entity, key=key, before=before, after=after
    )
    session.add(change)
    session.info.setdefault(_RECORDED, []).append(change)


def finish(session: Session, commit: bool) -> None:
    """End a write: raise the revision, flush, run the write effects, commit (unless the caller
    commits several writes at once, as the seed does)."""
    recorded: list[Change] = session.info.pop(_RECORDED, [])
    bump_revision(session)
    session.flush()
    for effect in WRITE_EFFECTS:
        effect(session, recorded)
    if commit:
        session.commit()


def list_changes(session: Session, limit: int = 100, offset: int = 0) -> tuple[list[Change], int]:
    total = session.exec(select(func.count()).select_from(Change)).one()
    rows = session.exec(
        select(Change).order_by(col(Change.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total
