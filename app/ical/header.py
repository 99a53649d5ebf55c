"""What a feed is made of besides its events: its header, the zones its timed events use and the
calendar's zone (app.ical.calendar assembles the bytes, byte-for-byte deterministic)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.ical import wording
from app.models import Meeting
from app.readmodel.groups import GroupInfo
from app.readmodel.links import meeting_page_url
from app.timezone import zones


@dataclass(frozen=True)
class FeedHeader:
    name: str
    description: str
    source_url: str
    page_url: str


def meeting_header(meeting: Meeting, info: GroupInfo, ctx: wording.FeedContext) -> FeedHeader:
    """The header of a calendar holding one meeting (its feed, an invitation, an announcement),
    in the context's language."""
    return FeedHeader(
        name=wording.meeting_summary(meeting, info, ctx.lang),
        description=wording.one_meeting_description(info, ctx.lang),
        source_url=f"{ctx.base_url}/meetings/{meeting.uid}.ics",
        page_url=meeting_page_url(ctx.base_url, info.slug, meeting.uid),
    )


def zones_needed(meetings: Iterable[Meeting]) -> dict[str, int]:
    """Each zone that timed events use, with the earliest year the VTIMEZONE must cover."""
    needed: dict[str, int] = {}
    for meeting in meetings:
        if meeting.start_time is not None:
            year = meeting.date.year
            needed[meeting.timezone] = min(year, needed.get(meeting.timezone, year))
    return needed


def calendar_zone(names: Iterable[str]) -> str:
    """The calendar's X-WR-TIMEZONE: Geneva's, unless its events all use other zones; clients
    that honour it must not get a zone none of the events is in."""
    used = sorted(names)
    return zones.GENEVA if not used or zones.GENEVA in used else used[0]
