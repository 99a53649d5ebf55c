"""Console accounts: people, their argon2id password hashes, server-side sessions, throttling.

Plain functions on a Session; the console's routes and the command line both call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError
from sqlmodel import Session, col, delete, select

from app.models import ConsoleSession, User, UserCreate

# argon2-cffi's defaults are argon2id with the RFC 9106 "low memory" parameters.
_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name costs as long as a wrong
# password and timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
# Sessions seen within this long are not written again on every request.
_TOUCH_AFTER = dt.timedelta(minutes=1)


class AccountError(ValueError):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


def _valid(name: str, password: str) -> UserCreate:
    try:
        return UserCreate(name=name, password=password)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        if field == "name":
            raise AccountError(
                "a user name is 1-80 letters, digits, '.', '-' or '_', starting with a letter "
                "or digit"
            ) from None
        raise AccountError("a password has at least 12 characters (at most 1000)") from None


def _get(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise AccountError(f"no user {name!r}")
    return user


def add_user(session: Session, name: str, password: str) -> User:
    data = _valid(name, password)
    if session.exec(select(User.id).where(User.name == data.name)).first() is not None:
        raise AccountError(f"a user {name!r} exists already")
    user = User(name=data.name, password_hash=_hasher.hash(data.password), created_at=_now())
    session.add(user)
    session.commit()
    return user


def set_password(session: Session, name: str, password: str) -> None:
    """A new password; every session of the account ends (and a disabled account stays so)."""
    user = _get(session, name)
    data = _valid(name, password)
    user.password_hash = _hasher.hash(data.password)
    session.add(user)
    end_sessions_of(session, user)
    session.commit()


def disable_user(session: Session, name: str, disabled: bool = True) -> None:
    """Disable an account (its sessions end), or enable it again (disabled=False)."""
    user = _get(session, name)
    user.disabled = disabled
    session.add(user)
    end_sessions_of(session, user)
    session.commit()


def remove_user(session: Session, name: str) -> None:
    """Remove an account and its sessions; the audit trail keeps its name on what it changed."""
    user = _get(session, name)
    end_sessions_of(session, user)
    session.delete(user)
    session.commit()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))).all())


# Longer names cannot exist (UserCreate), longer passwords cannot be right: refused before any
# lookup or hash.
MAX_NAME = 80
MAX_PASSWORD = 1000


def find_user(session: Session, name: str) -> User | None:
    """The account named `name`, read only; None for a name that cannot exist."""
    # PostgreSQL refuses NUL in text outright: such a name cannot exist, so do not ask.
    if not name or len(name) > MAX_NAME or "\x00" in name:
        return None
    return session.exec(select(User).where(User.name == name)).first()


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the account's; as slow for an unknown account as for a known
    one, so that timing does not tell which names exist. Call it outside any session."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and not user.disabled


def rehash_if_needed(session: Session, user: User, password: str) -> None:
    """A hash made with older parameters is replaced on the next good sign-in."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)


def check_password(session: Session, name: str, password: str) -> User | None:
    """The account if `password` is its password and it is enabled; None otherwise."""
    # PostgreSQL refuses NUL in text outright: such a name cannot exist, so do not ask.
    findable = len(name) <= 80 and "\x00" not in name
    user = session.exec(select(User).where(User.name == name)).first() if findable else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.commit()
    return user


# --- sessions ----------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """Who is behind a session cookie, and the token their forms must carry."""

    name: str
    csrf_token: str
    session_id: str


def start_session(session: Session, user: User, idle: dt.timedelta | None = None) -> str:
    """A new session for `user`; the returned secret goes in the cookie, only its hash is kept.
    With `idle`, sessions of anyone left unused for longer are cleared out on the way."""
    assert user.id is not None
    secret = secrets.token_urlsafe(32)
    stamp = _now()
    if idle is not None:
        stale = col(ConsoleSession.last_seen_at) < stamp - idle
        session.exec(delete(ConsoleSession).where(stale))
    session.add(
        ConsoleSession(
            id=_digest(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=stamp,
            last_seen_at=stamp,
        )
    )
    session.commit()
    return secret


def resume_session(session: Session, secret: str | None, idle: dt.timedelta) -> SignedIn | None:
    """The person behind a cookie's secret, if the session exists, is not idle for longer than
    `idle` and its account is enabled. An expired session is removed."""
    if not secret or len(secret) > 200:
        return None
    row = session.get(ConsoleSession, _digest(secret))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    stamp = _now()
    if user is None or user.disabled or stamp - _aware(row.last_seen_at) > idle:
        session.delete(row)
        session.commit()
        return None
    if stamp - _aware(row.last_seen_at) >= _TOUCH_AFTER:
        row.last_seen_at = stamp
        session.add(row)
        session.commit()
    return SignedIn(name=user.name, csrf_token=row.csrf_token, session_id=row.id)


def end_session(session: Session, signed_in: SignedIn) -> None:
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.id) == signed_in.session_id))
    session.commit()


def end_sessions_of(session: Session, user: User) -> None:
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user.id))


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


# --- throttling failed sign-ins ----------------------------------------------------------------
