"""Console accounts: people, their argon2id password hashes, server-side sessions, throttling.

Plain functions on a Session; the console's routes and the command line both call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
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


def disable_user(session: Session, name: str) -> None:
    user = _get(session, name)
    user.disabled = True
    session.add(user)
    end_sessions_of(session, user)
    session.commit()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))).all())


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


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


class SignInThrottle:
    """Failed sign-ins, per address and per account, within a sliding window.

    An address with `per_address` failures waits out the window, whatever account it tries.
    An account with `per_account` failures is closed to the addresses those failures came
    from, never to another address: a correct password typed elsewhere still signs in, so an
    attacker cannot lock the secretariat out by guessing wrong on purpose.
    """

    def __init__(
        self,
        per_address: int = 10,
        per_account: int = 5,
        window: float = 300.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_address = per_address
        self._per_account = per_account
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._by_address: dict[str, deque[float]] = {}
        self._by_account: dict[str, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def _retry(self, oldest: float, now: float) -> int:
        return max(1, math.ceil(oldest + self._window - now))

    def check(self, account: str, address: str) -> None:
        now = self._clock()
        horizon = now - self._window
        with self._lock:
            by_address = self._by_address.get(address)
            if by_address is not None:
                while by_address and by_address[0] <= horizon:
                    by_address.popleft()
                if len(by_address) >= self._per_address:
                    raise Throttled(self._retry(by_address[0], now))
            by_account = self._by_account.get(account)
            if by_account is not None:
                while by_account and by_account[0][0] <= horizon:
                    by_account.popleft()
                if len(by_account) >= self._per_account:
                    mine = [at for at, where in by_account if where == address]
                    if mine:
                        raise Throttled(self._retry(mine[0], now))

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for table in (self._by_address, self._by_account):
                if len(table) >= self._max_keys:
                    table.pop(next(iter(table)))
            self._by_address.setdefault(address, deque()).append(now)
            self._by_account.setdefault(account, deque()).append((now, address))

    def succeeded(self, account: str, address: str) -> None:
        with self._lock:
            by_account = self._by_account.get(account)
            if by_account is not None:
                kept = [(at, where) for at, where in by_account if where != address]
                self._by_account[account] = deque(kept)
