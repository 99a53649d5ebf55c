"""The vocabularies (group kinds and statuses, meeting statuses) and the checked field types
every model family uses: single- and multi-line text, slugs, URLs, zones, wall-clock times;
and `all_optional`, which makes a family's update model from its Base."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from app.core.words import N_
from app.timezone import zones


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
            raise ValueError(
                N_("control or unassigned character %(code)s is not allowed")
                % {"code": f"U+{ord(char):04X}"}
            )
    return value


def _single_line(value: str) -> str:
    value = _no_controls(value).strip()
    if not value:
        raise ValueError(N_("must not be empty"))
    return value


def _multi_line(value: str) -> str:
    return _no_controls(value.replace("\r\n", "\n"), allowed="\n\t").strip()


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            N_("must be lowercase letters, digits and single hyphens, like 'ai-in-cities'")
        )
    return value


def _url(value: str) -> str:
    value = _single_line(value)
    if re.match(r"^https?://", value) and re.search(r"\s", value):
        raise ValueError(
            N_("has a space in it: a link cannot contain spaces (remove it, or write %%20)") % {}
        )
    if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
        raise ValueError(N_("must be a link starting with http:// or https://"))
    return value


def _zone(value: str) -> str:
    """The zone's IANA spelling: "europe/zurich" is Europe/Zurich, the TZID feeds publish."""
    if not zones.is_zone(value):
        raise ValueError(zones.UNKNOWN_ZONE % {"zone": repr(value), "example": zones.GENEVA})
    return zones.canonical(value)


def _minutes(value: time | None) -> time | None:
    if value is not None and (value.second or value.microsecond or value.tzinfo is not None):
        raise ValueError(N_("must be a wall-clock time HH:MM, without seconds or offset"))
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
        raise ValueError(N_("must be a date written YYYY-MM-DD"))
    return value


def clock_text(value: time | None) -> str | None:
    """A wall-clock time as the API, the audit trail and the seed file write it: HH:MM."""
    return value.strftime("%H:%M") if value is not None else None


Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
WallClock = Annotated[time, AfterValidator(_minutes)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# A working group's code: WG1 ... WG99 (the seed file and the API check the same pattern).
WG_CODE_PATTERN = r"^WG[1-9][0-9]?$"
Code = Annotated[str, Field(pattern=WG_CODE_PATTERN)]


def all_optional(base: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """A model with `base`'s fields, in its order and with their checked types (so their field
    validators), each optional with default None; `base`'s model validators are not carried
    over: a patch is checked field by field, the merged whole by `base` itself."""
    fields: dict[str, Any] = {}
    for field, info in base.model_fields.items():
        # Pydantic keeps a checked type's constraints and validators beside its annotation.
        checked: Any = (
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        fields[field] = (Optional[checked], None)  # noqa: UP045 (a type built at run time)
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=doc,
        __module__=base.__module__,
        **fields,
    )
