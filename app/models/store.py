"""The store's own tables: the data revision, API tokens, the audit trail (with its public
models), the outbox and webhooks, console accounts and their sessions, stored event texts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.models.fields import Slug, Url


class Revision(SQLModel, table=True):
    """One row: a counter raised by every write, so every process knows when data changed."""

    id: int = SQLField(default=1, primary_key=True)
    value: int = 0


class ApiToken(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name"),)
    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(max_length=80)
    token_hash: str = SQLField(max_length=128, index=True)
    created_at: datetime
    revoked_at: datetime | None = None


class Change(SQLModel, table=True):
    """The audit trail: who changed what, when, from what to what."""

    id: int | None = SQLField(default=None, primary_key=True)
    at: datetime = SQLField(index=True)
    actor: str = SQLField(max_length=80)
    action: str = SQLField(max_length=32)
    entity: str = SQLField(max_length=16)
    key: str = SQLField(max_length=120, index=True)
    before: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSON))


class IdempotentWrite(SQLModel, table=True):
    """A create made under a client's key (the API's Idempotency-Key header, a console form's
    one-time key): a repeat of the key gets what the first made, never a second one. Kept a
    day (app.crud.idempotency)."""

    __table_args__ = (UniqueConstraint("actor", "key"),)
    id: int | None = SQLField(default=None, primary_key=True)
    actor: str = SQLField(max_length=80)
    key: str = SQLField(max_length=200)
    fingerprint: str = SQLField(max_length=64)
    entity: str = SQLField(max_length=16)  # "meeting" or "group"
    made: str = SQLField(max_length=120)  # its uid or slug
    at: datetime = SQLField(index=True)


class ChangePublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ChangesPublic(BaseModel):
    data: list[ChangePublic]
    count: int


class OutboxMessage(SQLModel, table=True):
    """A message to deliver (a mail or a webhook call), written in the transaction of its change.

    `message_id` is fixed when it is written: every attempt, a resend after a crash included,
    carries it (the Message-ID of a mail, the webhook-id of a call)."""

    id: int | None = SQLField(default=None, primary_key=True)
    message_id: str = SQLField(unique=True, max_length=80)
    kind: str = SQLField(max_length=16)  # "mail", "webhook" or "fanout"
    target: str = SQLField(max_length=2000)  # the recipients, or the webhook's URL
    webhook_id: int | None = SQLField(default=None, index=True)
    event: str = SQLField(max_length=40)
    payload: str  # the whole mail, or the JSON body of the call
    status: str = SQLField(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = SQLField(index=True)
    expires_at: datetime
    claimed_by: str | None = SQLField(default=None, max_length=80)
    lease_until: datetime | None = None
    last_error: str | None = SQLField(default=None, max_length=500)
    created_at: datetime
    sent_at: datetime | None = None


class WebhookBase(SQLModel):
    url: str = SQLField(max_length=2000)
    groups: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    groups: list[Slug] = Field(default_factory=list, max_length=50)


class Webhook(WebhookBase, table=True):
    """An integrator's endpoint: every change (of its groups, when it names some) is POSTed."""

    id: int | None = SQLField(default=None, primary_key=True)
    secret: str = SQLField(max_length=100)
    created_at: datetime
    disabled: bool = False  # changes are not sent to it until it is enabled again


class WebhookPublic(BaseModel):
    id: int
    url: str
    groups: list[str]
    created_at: datetime


class UserBase(BaseModel):
    name: Annotated[
        str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ]


class UserCreate(UserBase):
    password: Annotated[str, Field(min_length=12, max_length=1000)]


class User(SQLModel, table=True):
    """A person who may sign in to the console; only an argon2id hash of the password is kept."""

    __tablename__ = "users"
    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(unique=True, index=True, max_length=80)
    password_hash: str = SQLField(max_length=200)
    disabled: bool = False
    created_at: datetime


class UserPublic(UserBase):
    disabled: bool
    created_at: datetime


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser, kept in the store so that every replica knows it; the cookie holds
    a secret whose hash is the key."""

    id: str = SQLField(primary_key=True, max_length=64)
    user_id: int = SQLField(foreign_key="users.id", index=True)
    csrf_token: str = SQLField(max_length=64)
    created_at: datetime
    last_seen_at: datetime


class StoredEvent(SQLModel, table=True):
    """A meeting's VEVENT text as rendered for one context (app.feeds.event_store): kept so that a
    new process or another replica serves feeds without rendering events again."""

    meeting_id: int = SQLField(
        sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    )
    # A hash of what the text depends on besides the meeting: base URL, uid domain, organizer,
    # alarm, the renderer's version.
    context: str = SQLField(primary_key=True, max_length=64)
    # The meeting's revision and sequence with its group's and parent's versions.
    stamp: str = SQLField(max_length=120)
    body: str
