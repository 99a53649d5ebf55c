"""What a meeting's event says in words: the feed context, its summary and titles, and the
time lines of its description (app.ical.event builds the VEVENT from them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.config import Settings
from app.models import Meeting, MeetingStatus
from app.readmodel.groups import GroupInfo
from app.timezone import zones


@dataclass(frozen=True)
class FeedContext:
    """What rendering needs besides the data: fixed for a process and base URL."""

    base_url: str
    uid_domain: str
    organizer_email: str
    refresh: dt.timedelta

    @classmethod
    def of(cls, settings: Settings, base_url: str) -> FeedContext:
        """The one way a context is made (routes, fast path, messages): the same event text
        wherever an event is rendered for this base URL."""
        return cls(
            base_url=base_url,
            uid_domain=settings.uid_domain,
            organizer_email=settings.organizer_email,
            refresh=settings.refresh_interval,
        )


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def human_date(day: dt.date) -> str:
    # Not strftime("%B"): month names must not follow the server's locale.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _summary(prefix: str, meeting: Meeting) -> str:
    summary = prefix + (meeting.title or "e-meeting")
    if meeting.status == MeetingStatus.cancelled:
        summary = "Cancelled: " + summary
    return summary


def meeting_summary(meeting: Meeting, info: GroupInfo) -> str:
    """ "U4SSC AI in cities WG2 Autonomous Cities: e-meeting", marked when cancelled."""
    return _summary(_summary_prefix(info), meeting)


def _summary_prefix(info: GroupInfo) -> str:
    return f"U4SSC {info.label}: "


def default_title(info: GroupInfo) -> str:
    return f"{info.label}: e-meeting"


def time_lines(meeting: Meeting) -> list[str]:
    """What DESCRIPTION says of when: the wall clock in its zone, and in UTC."""
    if meeting.start_time is None or meeting.end_time is None:
        return [f"Date: {human_date(meeting.date)} (all day; the plan gives no time)"]
    zone_name = meeting.timezone
    start_utc, end_utc = meeting.start_utc, meeting.end_utc
    if start_utc is None or end_utc is None:  # not derived yet: derive as crud would
        start_utc = zones.to_utc(meeting.date, meeting.start_time, zone_name)
        end_utc = zones.to_utc(meeting.date, meeting.end_time, zone_name)
    # The instants are stored; reading the zone from UTC is much cheaper than localizing.
    start = zones.local(start_utc, zone_name)
    offset = zones.format_offset(start.utcoffset() or dt.timedelta(0), ":", seconds=False)
    zone_label = "Geneva time" if zone_name == zones.GENEVA else zone_name
    start_utc = start_utc.astimezone(dt.UTC)
    end_utc = end_utc.astimezone(dt.UTC)
    clock = meeting.start_time, meeting.end_time
    return [
        f"Time: {human_date(meeting.date)}, {clock[0]:%H:%M}-{clock[1]:%H:%M} {zone_label}"
        f" ({start.tzname()}, UTC{offset})",
        f"UTC: {start_utc.hour:02d}:{start_utc.minute:02d}-{end_utc.hour:02d}:"
        f"{end_utc.minute:02d} UTC ({human_date(start_utc.date())})",
    ]
