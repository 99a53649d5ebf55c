"""The meeting family: MeetingBase (what a meeting is made of, checked as a whole),
MeetingCreate, MeetingUpdate, the Meeting table, MeetingPublic and MeetingsPublic."""

from __future__ import annotations

import datetime as dt
from datetime import datetime, time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.core.words import N_
from app.models.fields import (
    IsoDate,
    LongText,
    MeetingStatus,
    ShortText,
    Slug,
    Url,
    WallClock,
    Zone,
    all_optional,
)
from app.models.translations import DESCRIPTION, MeetingTranslations, Texts
from app.timezone import zones


class Meeting(SQLModel, table=True):
    """An e-meeting: a wall-clock date (and times) in its zone; its instants follow from them."""

    # A feed reads its meetings in feed order, and the zones and change time its header needs,
    # from these indexes alone, not from the table's pages (migrations 0005 and 0006).
    __table_args__ = (
        Index(
            "ix_meeting_feed",
            "geneva_date",
            text("(start_utc IS NOT NULL)"),
            "start_utc",
            "uid",
            "status",
            "id",
            "group_id",
            "revision",
            "sequence",
        ),
        Index(
            "ix_meeting_feed_zones",
            "timezone",
            text("(start_time IS NOT NULL)"),
            "status",
            "geneva_date",
            "date",
            "updated_at",
        ),
    )

    id: int | None = SQLField(default=None, primary_key=True)
    uid: str = SQLField(unique=True, index=True, max_length=120)
    group_id: int = SQLField(foreign_key="group.id", index=True)
    title: str | None = SQLField(default=None, max_length=200)
    status: str = SQLField(max_length=16)
    date: dt.date
    start_time: time | None = None
    end_time: time | None = None
    timezone: str = SQLField(default=zones.GENEVA, max_length=64)
    # Derived from the fields above on every write, kept for sorting and filtering.
    geneva_date: dt.date = SQLField(index=True)
    start_utc: datetime | None = None
    end_utc: datetime | None = None
    sequence: int = 0
    description: str | None = None
    join_url: str | None = SQLField(default=None, max_length=2000)
    # {"fr": {"title": ..., "description": ...}} (app.models.translations); {} for none.
    translations: Texts = SQLField(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # Loaded from the seed file: a later load of a file without it cancels it.
    from_seed: bool = False
    version: int = 1
    created_at: datetime
    updated_at: datetime
    # The data revision of the meeting's last write (app.core.db.take_revision): a feed rendered at
    # revision R re-reads only the meetings changed after R (migration 0006).
    revision: int = SQLField(default=0, index=True, sa_column_kwargs={"server_default": "0"})


# The answer's contract, declared whole (its order is the JSON order, its types the plain output
# types). By design it differs from MeetingBase: the title is filled in, times are "HH:MM"
# text, and it adds all_day, the zone's and UTC instants, sequence, change times and the links
# (url, feed_url, webcal_url).
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
    translations: Texts = Field(description=DESCRIPTION)
    created_at: datetime
    updated_at: datetime
    url: str
    feed_url: str
    webcal_url: str


class MeetingsPublic(BaseModel):
    data: list[MeetingPublic]
    count: int


class MeetingBase(BaseModel):
    """What a meeting is made of, checked as a whole: times both or neither, end after start,
    a wall-clock time that exists exactly once in its zone."""

    model_config = ConfigDict(extra="forbid")

    group: Slug
    title: ShortText | None = None
    date: IsoDate
    start_time: WallClock | None = None
    end_time: WallClock | None = None
    timezone: Zone = zones.GENEVA
    status: MeetingStatus = MeetingStatus.confirmed
    description: LongText | None = None
    join_url: Url | None = None
    # Null is none: a meeting always has an object, {} when nothing is translated.
    translations: MeetingTranslations = Field(default_factory=dict)

    @model_validator(mode="after")
    def _times_make_sense(self) -> MeetingBase:
        if not dt.date(1900, 1, 1) <= self.date <= dt.date(2099, 12, 31):
            raise ValueError("date: " + N_("must be between 1900-01-01 and 2099-12-31"))
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError(
                "end_time: " + N_("give both start_time and end_time, or neither (all-day)")
            )
        if self.start_time is not None and self.end_time is not None:
            if self.end_time <= self.start_time:
                raise ValueError("end_time: " + N_("must be after the start time, on the same day"))
            for name, clock in (("start_time", self.start_time), ("end_time", self.end_time)):
                try:
                    zones.to_utc(self.date, clock, self.timezone)
                except zones.WallClockError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return self


class MeetingCreate(MeetingBase):
    pass


if TYPE_CHECKING:

    class MeetingUpdate(BaseModel):
        """Read as a model with no fields: every use goes through model_dump/model_validate."""

else:
    # MeetingBase's fields, each optional; null times make it all-day.
    MeetingUpdate = all_optional(
        MeetingBase,
        "MeetingUpdate",
        "Any subset of a meeting's fields; null times make it all-day.",
    )


# What a Meeting row takes from MeetingBase as it is (the group becomes group_id).
MEETING_FIELDS: tuple[str, ...] = tuple(
    name for name in MeetingBase.model_fields if name != "group"
)

# A meeting's audit snapshot: its uid, the MeetingBase fields in the order MeetingPublic shows
# them (the group as its slug, though the row stores group_id), then the sequence.
MEETING_SNAPSHOT_FIELDS: tuple[str, ...] = (
    "uid",
    *(name for name in MeetingPublic.model_fields if name in MeetingBase.model_fields),
    "sequence",
)

# The name crud and the seed use for a whole meeting checked before it is written.
MeetingFields = MeetingBase
