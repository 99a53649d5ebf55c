"""Rendering .ics feeds from meetings: pure functions, byte-for-byte deterministic.

A feed is a header, one VTIMEZONE per zone its timed events use, and the events. Each event's
text depends only on its meeting, its group and the settings, so it is rendered once per
meeting version and reused by every feed that holds it; a change re-renders one event.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app import geneva
from app.crud import GroupInfo
from app.models import Meeting, MeetingStatus

CRLF = "\r\n"
PRODID = "-//U4SSC//U4SSC meeting calendar//EN"


@dataclass(frozen=True)
class FeedContext:
    """What rendering needs besides the data: fixed for a process and base URL."""

    base_url: str
    uid_domain: str
    organizer_email: str
    refresh: dt.timedelta


@dataclass(frozen=True)
class FeedHeader:
    name: str
    description: str
    source_url: str
    page_url: str


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping; every newline becomes the two characters \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence and never
    right after a backslash, since some clients unfold escapes badly."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to the start
            end -= 1
        cut = end
        while cut - start > limit // 2 and data[cut - 1] == 0x5C:  # "\"
            cut -= 1
        end = cut if cut - start > limit // 2 else end
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines begin with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")


def _line(name: str, value: str) -> str:
    return fold(f"{name}:{value}") + CRLF


def _text(name: str, value: str) -> str:
    return _line(name, escape_text(value))


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and not minutes:
        return f"PT{hours}H"
    return f"PT{hours}H{minutes}M" if hours else f"PT{minutes}M"


def _human_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def meeting_summary(meeting: Meeting, info: GroupInfo) -> str:
    title = meeting.title or "e-meeting"
    summary = f"U4SSC {info.label}: {title}"
    if meeting.status == MeetingStatus.cancelled:
        summary = f"Cancelled: {summary}"
    return summary


def default_title(info: GroupInfo) -> str:
    return f"{info.label}: e-meeting"


def meeting_page_url(base_url: str, slug: str, uid: str) -> str:
    return f"{base_url}/groups/{slug}#meeting-{uid}"


def _time_lines(meeting: Meeting) -> list[str]:
    """What DESCRIPTION says of when: the wall clock in its zone, and in UTC."""
    if meeting.start_time is None or meeting.end_time is None:
        return [f"Date: {_human_date(meeting.date)} (all day; the plan gives no time)"]
    start = geneva.localize(meeting.date, meeting.start_time, meeting.timezone)
    end = geneva.localize(meeting.date, meeting.end_time, meeting.timezone)
    zone_label = "Geneva time" if meeting.timezone == geneva.GENEVA else meeting.timezone
    offset = start.strftime("%z")
    start_utc = start.astimezone(dt.UTC)
    end_utc = end.astimezone(dt.UTC)
    return [
        f"Time: {_human_date(meeting.date)}, {start:%H:%M}-{end:%H:%M} {zone_label}"
        f" ({start.tzname()}, UTC{offset[:3]}:{offset[3:]})",
        f"UTC: {start_utc:%H:%M}-{end_utc:%H:%M} UTC ({_human_date(start_utc.date())})",
    ]


def _description(meeting: Meeting, info: GroupInfo, page_url: str) -> str:
    group = info.group
    parts = []
    if info.parent is not None:
        parts.append(f"Thematic group: {info.parent.name}")
        parts.append(f"Working group: {group.code} {group.name}".replace("None ", ""))
    else:
        parts.append(f"Thematic group: {group.name}")
    if info.leaders:
        names = "; ".join(
            f"{leader.name} ({leader.affiliation})" if leader.affiliation else leader.name
            for leader in info.leaders
        )
        parts.append(f"Leaders: {names}")
    parts.extend(_time_lines(meeting))
    if meeting.status == MeetingStatus.cancelled:
        parts.append("Status: CANCELLED")
    elif meeting.status == MeetingStatus.tentative:
        parts.append("Status: tentative")
    if meeting.join_url:
        parts.append(f"Join: {meeting.join_url}")
    if meeting.description:
        parts.append("")
        parts.append(meeting.description)
    parts.append("")
    parts.append(f"More: {page_url}")
    return "\n".join(parts)


def _categories(info: GroupInfo) -> str:
    names = (
        [info.parent.name, f"{info.group.code} {info.group.name}"]
        if info.parent
        else [info.group.name]
    )
    return ",".join(escape_text(name) for name in ["U4SSC", *names])


def render_event(
    meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm_minutes: int | None = None
) -> str:
    """One VEVENT, CRLF-terminated lines, folded at 75 octets."""
    page_url = meeting_page_url(ctx.base_url, info.slug, meeting.uid)
    out = [
        "BEGIN:VEVENT" + CRLF,
        _line("UID", f"{meeting.uid}@{ctx.uid_domain}"),
        _line("DTSTAMP", _utc(meeting.updated_at)),
        _line("CREATED", _utc(meeting.created_at)),
        _line("LAST-MODIFIED", _utc(meeting.updated_at)),
        _line("SEQUENCE", str(meeting.sequence)),
        _line("STATUS", meeting.status.upper()),
        _text("SUMMARY", meeting_summary(meeting, info)),
    ]
    all_day = meeting.start_time is None or meeting.end_time is None
    if all_day:
        out.append(_line("DTSTART;VALUE=DATE", f"{meeting.date:%Y%m%d}"))
        out.append(_line("DTEND;VALUE=DATE", f"{meeting.date + dt.timedelta(days=1):%Y%m%d}"))
        out.append(_line("TRANSP", "TRANSPARENT"))
        out.append(_line("X-MICROSOFT-CDO-ALLDAYEVENT", "TRUE"))
    else:
        assert meeting.start_time is not None and meeting.end_time is not None
        tzid = f"DTSTART;TZID={meeting.timezone}"
        out.append(_line(tzid, f"{meeting.date:%Y%m%d}T{meeting.start_time:%H%M%S}"))
        tzid = f"DTEND;TZID={meeting.timezone}"
        out.append(_line(tzid, f"{meeting.date:%Y%m%d}T{meeting.end_time:%H%M%S}"))
        out.append(_line("TRANSP", "OPAQUE"))
    out += [
        _text("LOCATION", "Online"),
        _line("URL;VALUE=URI", page_url),
        _line("ORGANIZER;CN=U4SSC secretariat", f"mailto:{ctx.organizer_email}"),
        _line("CATEGORIES", _categories(info)),
        _line("CLASS", "PUBLIC"),
    ]
    if meeting.join_url:
        out.append(_line("CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join", meeting.join_url))
    out.append(_text("DESCRIPTION", _description(meeting, info, page_url)))
    if alarm_minutes is not None and not all_day and meeting.status != MeetingStatus.cancelled:
        out += [
            "BEGIN:VALARM" + CRLF,
            _line("ACTION", "DISPLAY"),
            _text("DESCRIPTION", meeting_summary(meeting, info)),
            _line(
                "TRIGGER;RELATED=START",
                "-" + _duration(dt.timedelta(minutes=alarm_minutes)) if alarm_minutes else "PT0S",
            ),
            "END:VALARM" + CRLF,
        ]
    out.append("END:VEVENT" + CRLF)
    return "".join(out)


def zones_needed(meetings: Iterable[Meeting]) -> dict[str, int]:
    """Each zone that timed events use, with the earliest year the VTIMEZONE must cover."""
    zones: dict[str, int] = {}
    for meeting in meetings:
        if meeting.start_time is not None:
            year = meeting.date.year
            zones[meeting.timezone] = min(year, zones.get(meeting.timezone, year))
    return zones


def calendar_zone(zones: Iterable[str]) -> str:
    """The calendar's X-WR-TIMEZONE: Geneva's, unless its events all use other zones; clients
    that honour it must not get a zone none of the events is in."""
    used = sorted(zones)
    return geneva.GENEVA if not used or geneva.GENEVA in used else used[0]


def render_calendar(
    header: FeedHeader, ctx: FeedContext, zones: dict[str, int], events: Sequence[str]
) -> bytes:
    refresh = _duration(ctx.refresh)
    parts = [
        "BEGIN:VCALENDAR" + CRLF,
        _line("VERSION", "2.0"),
        _line("PRODID", PRODID),
        _line("CALSCALE", "GREGORIAN"),
        _line("METHOD", "PUBLISH"),
        _text("NAME", header.name),
        _text("X-WR-CALNAME", header.name),
        _text("DESCRIPTION", header.description),
        _text("X-WR-CALDESC", header.description),
        _line("X-WR-TIMEZONE", calendar_zone(zones)),
        _line("REFRESH-INTERVAL;VALUE=DURATION", refresh),
        _line("X-PUBLISHED-TTL", refresh),
        _line("SOURCE;VALUE=URI", header.source_url),
        _line("URL;VALUE=URI", header.page_url),
    ]
    for name in sorted(zones):
        parts.extend(line + CRLF for line in geneva.vtimezone_lines(name, zones[name]))
    parts.extend(events)
    parts.append("END:VCALENDAR" + CRLF)
    return "".join(parts).encode("utf-8")


class MeetingVersion(Protocol):
    """What identifies one version of a meeting's event text (a Meeting, or a row of it)."""

    @property
    def uid(self) -> str: ...
    @property
    def id(self) -> int | None: ...
    @property
    def version(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def updated_at(self) -> dt.datetime: ...


class EventCache:
    """Rendered VEVENT text per meeting version; bounded, least recently used goes first."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._entries: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        meeting: MeetingVersion, info: GroupInfo, ctx: FeedContext, alarm: int | None
    ) -> tuple[object, ...]:
        return (
            meeting.uid,
            meeting.id,
            meeting.version,
            meeting.sequence,
            meeting.updated_at,
            info.group.version,
            info.parent.version if info.parent else 0,
            ctx,
            alarm,
        )

    def peek(
        self, meeting: MeetingVersion, info: GroupInfo, ctx: FeedContext, alarm: int | None
    ) -> str | None:
        """The cached text of this meeting version, if any: lets a feed load whole meetings
        only for the events it must render."""
        key = self.key(meeting, info, ctx, alarm)
        text = self._entries.get(key)
        if text is not None:
            self.hits += 1
            self._entries.move_to_end(key)
        return text

    def get(self, meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm: int | None) -> str:
        key = self.key(meeting, info, ctx, alarm)
        text = self._entries.get(key)
        if text is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return text
        self.misses += 1
        text = render_event(meeting, info, ctx, alarm)
        self._entries[key] = text
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return text

    def clear(self) -> None:
        self._entries.clear()
