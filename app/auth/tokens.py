"""Bearer tokens for writes: ADMIN_TOKEN from the environment and named tokens kept as hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlmodel import Session, col, select

from app.models import ApiToken

ADMIN = "admin"


class TokenError(ValueError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def identify(session: Session, token: str, admin_token: str | None) -> str | None:
    """The name of the holder of `token`, or None. Comparisons take constant time."""
    if admin_token is not None and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ADMIN
    digest = hash_token(token)
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == digest, col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is not None and hmac.compare_digest(row.token_hash, digest):
        return row.name
    return None


def writes_possible(session: Session, admin_token: str | None) -> bool:
    if admin_token is not None:
        return True
    active = select(ApiToken.id).where(col(ApiToken.revoked_at).is_(None)).limit(1)
    return session.exec(active).first() is not None


def create_token(session: Session, name: str) -> str:
    """Issue a token for `name`; the token is returned once and only its hash is kept."""
    if not name or len(name) > 80 or not name.replace("-", "").replace("_", "").isalnum():
        raise TokenError("a token name is 1-80 letters, digits, '-' or '_'")
    if name == ADMIN:
        raise TokenError("'admin' is the name of ADMIN_TOKEN; choose another")
    existing = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if existing is not None and existing.revoked_at is None:
        raise TokenError(f"a token named {name!r} is active; disable or remove it first")
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if existing is not None:
        existing.token_hash, existing.created_at, existing.revoked_at = hash_token(token), now, None
        session.add(existing)
    else:
        session.add(ApiToken(name=name, token_hash=hash_token(token), created_at=now))
    session.commit()
    return token


def revoke_token(session: Session, name: str) -> None:
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None or row.revoked_at is not None:
        raise TokenError(f"no active token named {name!r}")
    row.revoked_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    session.add(row)
    session.commit()


def enable_token(session: Session, name: str) -> None:
    """Let a revoked token write again: the same secret (if it may have leaked: remove, add)."""
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None or row.revoked_at is None:
        raise TokenError(f"no disabled token named {name!r}")
    row.revoked_at = None
    session.add(row)
    session.commit()


def remove_token(session: Session, name: str) -> None:
    """Forget a token, active or revoked; the audit trail keeps its name on what it changed."""
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None:
        raise TokenError(f"no token named {name!r}")
    session.delete(row)
    session.commit()


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.name))).all())
