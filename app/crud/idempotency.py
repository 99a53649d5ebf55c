"""Creates under a client's key: the API's Idempotency-Key header (the IETF httpapi draft) and
a console form's one-time key. The key is looked up after the write lock is taken, and
remembered in the create's own transaction, so two submits of one key never make two rows;
the repeat is answered with what the first made. Keys are kept a day, one row per create."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from app.core.db import lock_revision
from app.crud.common import Invalid, now
from app.models import Change, IdempotentWrite

KEEP = dt.timedelta(hours=24)
MAX_KEY = 200
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Made:
    entity: str
    key: str  # the meeting's uid or the group's slug


def fingerprint(*parts: str | bytes) -> str:
    """What a request asked for (method, path, body): a key reused for another one is refused."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise Invalid(
            HEADER, f"must be 1 to {MAX_KEY} printable ASCII characters (a UUID, for example)"
        )


def made_before(session: Session, actor: str, key: str, print_: str | None) -> Made | None:
    """What this actor's key made within the day, if anything. Takes the write lock first, so a
    second submit waits for the first to commit and then finds it. `print_` None: any request
    (a console form); else a different request under the same key is refused."""
    lock_revision(session)
    row = session.exec(
        select(IdempotentWrite).where(
            IdempotentWrite.actor == actor,
            IdempotentWrite.key == key,
            col(IdempotentWrite.at) >= now() - KEEP,
        )
    ).first()
    if row is None:
        return None
    if print_ is not None and row.fingerprint != print_:
        raise Invalid(
            HEADER,
            "was already used for a different request: send a new key with a new request",
        )
    return Made(row.entity, row.made)


def remember(session: Session, actor: str, key: str, print_: str | None, made: Made) -> None:
    """Keep what the key made, in the create's transaction; forget keys older than a day."""
    session.execute(delete(IdempotentWrite).where(col(IdempotentWrite.at) < now() - KEEP))
    session.execute(
        delete(IdempotentWrite).where(
            col(IdempotentWrite.actor) == actor, col(IdempotentWrite.key) == key
        )
    )
    session.add(
        IdempotentWrite(
            actor=actor,
            key=key,
            fingerprint=print_ or "",
            entity=made.entity,
            made=made.key,
            at=now(),
        )
    )


def create_once(
    session: Session,
    actor: str,
    key: str | None,
    print_: str | None,
    entity: str,
    create: Callable[[], str],
) -> str:
    """Run `create` (it must not commit; it gives the uid or slug it made) and commit, unless
    `key` already made something: then that, untouched."""
    if key is not None:
        check_key(key)
        before = made_before(session, actor, key, print_)
        if before is not None and before.entity == entity:
            return before.key
    made = create()
    if key is not None:
        remember(session, actor, key, print_, Made(entity, made))
    session.commit()
    return made


# A browser's Back re-renders a form with a new key; a meeting just like one this person
# created moments ago is then asked about, not made again.
TWIN_WINDOW = dt.timedelta(minutes=30)


def twin_of(session: Session, actor: str, snapshot: dict[str, object]) -> str | None:
    """The uid of a meeting this actor created within TWIN_WINDOW with these very fields (its
    audit snapshot, uid and sequence aside), if there is one."""
    rows = session.exec(
        select(Change)
        .where(
            Change.actor == actor,
            Change.action == "create",
            Change.entity == "meeting",
            col(Change.at) >= now() - TWIN_WINDOW,
        )
        .order_by(col(Change.id).desc())
        .limit(50)
    ).all()
    wanted = {k: v for k, v in snapshot.items() if k not in ("uid", "sequence")}
    for row in rows:
        made = {k: v for k, v in (row.after or {}).items() if k not in ("uid", "sequence")}
        if made == wanted:
            return row.key
    return None
