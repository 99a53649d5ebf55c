"""People who receive invitations by email: the subscriber, the groups it follows, and what
the subscribe endpoint takes and answers.

Only what the feature needs is kept: the address, its groups, its language and when it consented
(`consented_at`); the rest are the single-use confirmation (a hash of its token, its expiry and
when it was last mailed), the secret of the manage and unsubscribe links, and the run of
permanent refusals that stops mail to an address that does not exist."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.core.words import N_
from app.models.fields import Slug

# The six UN languages, the only ones the service speaks.
LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
MAX_GROUPS = 100
MAX_ADDRESS = 254  # RFC 5321's limit on a path

# One address, no display name, no spaces or commas (the outbox splits recipients on commas),
# a domain with at least one dot. Strict on purpose: anything odd is refused, never mailed.
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def check_address(value: str) -> str:
    if any(char in value for char in "\r\n"):
        raise ValueError(N_("must not contain a line break"))
    value = value.strip()
    if len(value) > MAX_ADDRESS or not _ADDRESS.match(value):
        raise ValueError(N_("is not an e-mail address (like name@example.org)"))
    local = value.partition("@")[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError(N_("is not an e-mail address (like name@example.org)"))
    return value.lower()


def _check_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return value


def _unique(values: list[str]) -> list[str]:
    if not values:
        raise ValueError(N_("name at least one group"))
    return list(dict.fromkeys(values))


Address = Annotated[str, Field(max_length=MAX_ADDRESS + 10), AfterValidator(check_address)]
Language = Annotated[str, Field(max_length=5), AfterValidator(_check_language)]


class SubscriptionCreate(BaseModel):
    """`POST /api/subscriptions`: an address and the groups (slugs) it wants invitations for."""

    model_config = ConfigDict(extra="forbid")
    email: Address
    groups: Annotated[list[Slug], Field(max_length=MAX_GROUPS), AfterValidator(_unique)]
    language: Language = "en"


class SubscriptionAccepted(BaseModel):
    """The answer, whatever the address's state: what was asked, nothing about who is known."""

    email: str
    groups: list[str]
    language: str


class Subscriber(SQLModel, table=True):
    id: int | None = SQLField(default=None, primary_key=True)
    email: str = SQLField(unique=True, max_length=MAX_ADDRESS)
    language: str = SQLField(default="en", max_length=5)
    consented_at: datetime | None = None  # None: not confirmed yet
    # The confirmation: a SHA-256 of its token, single-use, with its expiry; the groups it will
    # add (a confirmed address asking again keeps its groups until it confirms).
    confirm_hash: str | None = SQLField(default=None, max_length=64, index=True)
    confirm_expires_at: datetime | None = None
    confirm_sent_at: datetime | None = None
    confirm_groups: list[str] | None = SQLField(default=None, sa_column=Column(JSON))
    # The secret of the manage and one-click unsubscribe links carried by every invitation.
    manage_token: str = SQLField(unique=True, max_length=64)
    refusals: int = 0  # permanent refusals in a row; at the limit, no more mail
    stopped_at: datetime | None = None


class SubscriberGroup(SQLModel, table=True):
    """A confirmed subscriber follows a group (a thematic one brings all its working groups)."""

    __tablename__ = "subscriber_group"
    subscriber_id: int = SQLField(
        sa_column=Column(Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = SQLField(
        sa_column=Column(Integer, ForeignKey("group.id"), primary_key=True, index=True)
    )


def public_shape(body: SubscriptionCreate) -> dict[str, Any]:
    return {"email": body.email, "groups": body.groups, "language": body.language}
