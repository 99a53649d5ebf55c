"""The group family: GroupBase (the descriptive fields, listed once), GroupCreate, GroupUpdate,
the Group table with its leaders (Person, Leadership), GroupPublic and GroupsPublic."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.models.fields import Code, GroupKind, GroupStatus, LongText, ShortText, Slug
from app.models.translations import DESCRIPTION, GroupTranslations, Texts


# The leader family is this one model: its two fields are the same coming in and going out
# (Base, Create and Public alike, so one class, named Leader in the OpenAPI schema). The store
# splits it by design: Person holds the name once, Leadership the affiliation per group.
class Leader(BaseModel):
    """A leader: a person with an organisation, or an organisation (affiliation null)."""

    model_config = ConfigDict(extra="forbid")
    name: ShortText
    affiliation: ShortText | None = None


class GroupBase(BaseModel):
    """A group's descriptive fields, each optional here; the family below narrows them."""

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
    translations: GroupTranslations | None = None


class GroupCreate(GroupBase):
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


class GroupUpdate(GroupBase):
    """Any subset of a group's descriptive fields; slug, kind and parent never change."""


class Group(SQLModel, table=True):
    """The stored group. Its columns stay declared here: they are plain column types (lengths
    as the checked types allow) that Alembic compares with the migrations, not the checked
    types of GroupBase; by design it stores parent_id and position where the API says parent,
    keeps the leaders in Person and Leadership, and adds version and the change times."""

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
    # {"fr": {"name": ..., "scope": ...}} (app.models.translations); {} for none (migration 0010).
    translations: Texts = SQLField(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
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


# The answer's contract, declared whole (a docstring would enter the OpenAPI schema): its order
# is the JSON order clients read, its types the plain output types (no input checks in the
# response schema). GROUP_FIELDS derives from it; over GroupCreate it adds working_groups,
# updated_at and the feed links.
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
    translations: Texts = Field(description=DESCRIPTION)
    working_groups: list[str]
    updated_at: datetime
    feed_url: str
    webcal_url: str


class GroupsPublic(BaseModel):
    data: list[GroupPublic]
    count: int


# The fields a group's audit snapshot and the seed file hold, in the order the API shows them.
GROUP_FIELDS: tuple[str, ...] = tuple(
    name for name in GroupPublic.model_fields if name in GroupCreate.model_fields
)
# The descriptive fields (what an update may change), in the family's order.
GROUP_DESCRIPTIVE_FIELDS: tuple[str, ...] = tuple(GroupBase.model_fields)
