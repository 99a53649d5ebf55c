"""Tables and the public, create and update models of groups, leaders, meetings and tokens."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app import geneva

# --- vocabularies ------------------------------------------------------------------------------


class GroupKind(StrEnum):
    thematic = "thematic"
    working = "working"


class GroupStatus(StrEnum):
    proposed = "proposed"
    to_be_kicked_off = "to_be_kicked_off"
    ongoing = "ongoing"
    to_be_published = "to_be_published"
    completed = "completed"
    closed = "closed"


class MeetingStatus(StrEnum):
    confirmed = "confirmed"
    tentative = "tentative"
    cancelled = "cancelled"


# --- text that is safe to store, show and put in a feed ----------------------------------------

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _no_controls(value: str, allowed: str = "") -> str:
    for char in value:
        if char not in allowed and unicodedata.category(char) in {
            "Cc",
            "Cs",
            "Co",
            "Cn",
            "Zl",
            "Zp",
        }:
            raise ValueError(f"control or unassigned character U+{ord(char):04X} is not allowed")
    return value


def _single_line(value: str) -> str:
    value = _no_controls(value).strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _multi_line(value: str) -> str:
    return _no_controls(value.replace("\r\n", "\n"), allowed="\n\t").strip()


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            "must be lowercase letters, digits and single hyphens, like 'ai-in-cities'"
        )
    return value


def _url(value: str) -> str:
    value = _single_line(value)
    if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _zone(value: str) -> str:
    """The zone's IANA spelling: "europe/zurich" is Europe/Zurich, the TZID feeds publish."""
    if not geneva.is_zone(value):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as {geneva.GENEVA}")
    return str(geneva.zone(value).zone)


def _minutes(value: time | None) -> time | None:
    if value is not None and (value.second or value.microsecond or value.tzinfo is not None):
        raise ValueError("must be a wall-clock time HH:MM, without seconds or offset")
    return value


ShortText = Annotated[str, Field(max_length=200), AfterValidator(_single_line)]
LongText = Annotated[str, Field(max_length=10_000), AfterValidator(_multi_line)]
Slug = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_slug)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(_url)]


def _iso_date(value: object) -> object:
    # Pydantic would read 0 or "0" as 1970-01-01 (a Unix time): a date is written YYYY-MM-DD.
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
WallClock = Annotated[time, AfterValidator(_minutes)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Code = Annotated[str, Field(pattern=r"^WG[1-9][0-9]?$")]


class Leader(BaseModel):
    """A leader: a person with an organisation, or an organisation (affiliation null)."""

    model_config = ConfigDict(extra="forbid")
    name: ShortText
    affiliation: ShortText | None = None


# --- tables ------------------------------------------------------------------------------------


class Group(SQLModel, table=True):
    id: int | None = SQLField(default=None, primary_key=True)
    slug: str = SQLField(unique=True, index=True, max_length=80)
    kind: str = SQLField(max_length=16)
    code: str | None = SQLField(default=None, max_length=8)
    name: str = SQLField(max_length=200)
    short_name: str | None = SQLField(default=None, max_length=200)
    parent_id: int | None = SQLField(default=None, foreign_key="group.id", index=True)
    position: int = 0
    status: str = SQLField(max_length=32)
    status_note: str | None = SQLField(default=None, max_length=200)
    secretariat: str | None = SQLField(default=None, max_length=200)
    timeline: str | None = SQLField(default=None, max_length=200)
    expected_publication: str | None = SQLField(default=None, max_length=200)
    scope: str | None = None
    notes: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    publications: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_at: datetime
    updated_at: datetime


class Person(SQLModel, table=True):
    """A leader held once, however many groups they lead."""

    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(unique=True, max_length=200)


class Leadership(SQLModel, table=True):
    """A person leading a group, with the organisation the plan names for them there."""

    group_id: int = SQLField(foreign_key="group.id", primary_key=True)
    position: int = SQLField(primary_key=True)
    person_id: int = SQLField(foreign_key="person.id", index=True)
    affiliation: str | None = SQLField(default=None, max_length=200)


class Meeting(SQLModel, table=True):
    """An e-meeting: a wall-clock date (and times) in its zone; its instants follow from them."""

    id: int | None = SQLField(default=None, primary_key=True)
    uid: str = SQLField(unique=True, index=True, max_length=120)
    group_id: int = SQLField(foreign_key="group.id", index=True)
    title: str | None = SQLField(default=None, max_length=200)
    status: str = SQLField(max_length=16)
    date: dt.date
    start_time: time | None = None
    end_time: time | None = None
    timezone: str = SQLField(default=geneva.GENEVA, max_length=64)
    # Derived from the fields above on every write, kept for sorting and filtering.
    geneva_date: dt.date = SQLField(index=True)
    start_utc: datetime | None = None
    end_utc: datetime | None = None
    sequence: int = 0
    description: str | None = None
    join_url: str | None = SQLField(default=None, max_length=2000)
    # Loaded from the seed file: a later load of a file without it cancels it.
    from_seed: bool = False
    version: int = 1
    created_at: datetime
    updated_at: datetime


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


class OutboxMessage(SQLModel, table=True):
    """A message to deliver (a mail or a webhook call), written in the transaction of its change.

    `message_id` is fixed when it is written: every attempt, a resend after a crash included,
    carries it (the Message-ID of a mail, the webhook-id of a call)."""

    id: int | None = SQLField(default=None, primary_key=True)
    message_id: str = SQLField(unique=True, max_length=80)
    kind: str = SQLField(max_length=16)  # "mail" or "webhook"
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


class WebhookPublic(BaseModel):
    id: int
    url: str
    groups: list[str]
    created_at: datetime


# --- what the API reads and writes ---------------------------------------------------------------


class GroupPublic(BaseModel):
    slug: str
    kind: GroupKind
    code: str | None
    name: str
    short_name: str | None
    parent: str | None
    status: GroupStatus
    status_note: str | None
    leaders: list[Leader]
    secretariat: str | None
    timeline: str | None
    expected_publication: str | None
    scope: str | None
    notes: list[str]
    publications: list[str]
    working_groups: list[str]
    updated_at: datetime
    feed_url: str
    webcal_url: str


class GroupsPublic(BaseModel):
    data: list[GroupPublic]
    count: int


class _GroupFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = None
    short_name: ShortText | None = None
    status: GroupStatus | None = None
    status_note: ShortText | None = None
    leaders: list[Leader] | None = Field(default=None, max_length=50)
    secretariat: ShortText | None = None
    timeline: ShortText | None = None
    expected_publication: ShortText | None = None
    scope: LongText | None = None
    notes: list[LongText] | None = Field(default=None, max_length=50)
    publications: list[ShortText] | None = Field(default=None, max_length=100)


class GroupCreate(_GroupFields):
    slug: Slug
    name: ShortText
    kind: GroupKind
    code: Code | None = None
    parent: Slug | None = None
    status: GroupStatus = GroupStatus.to_be_kicked_off

    @model_validator(mode="after")
    def _kind_fits(self) -> GroupCreate:
        if self.kind is GroupKind.working and self.parent is None:
            raise ValueError("parent: a working group needs the slug of its thematic group")
        if self.kind is GroupKind.thematic and (self.parent is not None or self.code is not None):
            raise ValueError("parent: a thematic group has no parent and no code")
        return self


class GroupUpdate(_GroupFields):
    """Any subset of a group's descriptive fields; slug, kind and parent never change."""


class MeetingPublic(BaseModel):
    uid: str
    group: str
    title: str
    status: MeetingStatus
    all_day: bool
    date: dt.date
    start_time: str | None
    end_time: str | None
    timezone: str
    start: datetime | None
    end: datetime | None
    start_utc: datetime | None
    end_utc: datetime | None
    sequence: int
    description: str | None
    join_url: str | None
    created_at: datetime
    updated_at: datetime
    url: str
    feed_url: str
    webcal_url: str


class MeetingsPublic(BaseModel):
    data: list[MeetingPublic]
    count: int


class MeetingFields(BaseModel):
    """What a meeting is made of, checked as a whole: times both or neither, end after start,
    a wall-clock time that exists exactly once in its zone."""

    model_config = ConfigDict(extra="forbid")

    group: Slug
    title: ShortText | None = None
    date: IsoDate
    start_time: WallClock | None = None
    end_time: WallClock | None = None
    timezone: Zone = geneva.GENEVA
    status: MeetingStatus = MeetingStatus.confirmed
    description: LongText | None = None
    join_url: Url | None = None

    @model_validator(mode="after")
    def _times_make_sense(self) -> MeetingFields:
        if not dt.date(1900, 1, 1) <= self.date <= dt.date(2099, 12, 31):
            raise ValueError("date: must be between 1900-01-01 and 2099-12-31")
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError("end_time: give both start_time and end_time, or neither (all-day)")
        if self.start_time is not None and self.end_time is not None:
            if self.end_time <= self.start_time:
                raise ValueError("end_time: must be after start_time (same day)")
            for name, clock in (("start_time", self.start_time), ("end_time", self.end_time)):
                try:
                    geneva.to_utc(self.date, clock, self.timezone)
                except geneva.WallClockError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return self


class MeetingCreate(MeetingFields):
    pass


class MeetingUpdate(BaseModel):
    """Any subset of a meeting's fields; null times make it all-day."""

    model_config = ConfigDict(extra="forbid")

    group: Slug | None = None
    title: ShortText | None = None
    date: IsoDate | None = None
    start_time: WallClock | None = None
    end_time: WallClock | None = None
    timezone: Zone | None = None
    status: MeetingStatus | None = None
    description: LongText | None = None
    join_url: Url | None = None


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


# --- the secretariat's console: accounts and their sessions -------------------------------------


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
    """A meeting's VEVENT text as rendered for one context (app.event_store): kept so that a
    new process or another replica serves feeds without rendering events again."""

    meeting_id: int = SQLField(
        sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    )
    # A hash of what the text depends on besides the meeting: base URL, uid domain, organizer,
    # alarm, the renderer's version.
    context: str = SQLField(primary_key=True, max_length=64)
    # The meeting's version, sequence and change time with its group's and parent's versions.
    stamp: str = SQLField(max_length=120)
    body: str
