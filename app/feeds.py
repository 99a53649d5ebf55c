"""Rendering .ics feeds from meetings: pure functions, byte-for-byte deterministic.

A feed is a header, one VTIMEZONE per zone its timed events use, and the events. Each event's
text depends only on its meeting, its group and the settings, so it is rendered once per
meeting version and reused by every feed that holds it; a change re-renders one event.
"""

from __future__ import annotations

import datetime as dt
import threading
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
    inside an escape (a backslash and the character it escapes), since some clients unfold
    escapes badly. A fold goes before a run of backslashes where the line allows it; within a
    run longer than a line, only after a whole number of escaped backslashes."""
    if len(line) <= 75 and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to the start
            end -= 1
        run = end
        while run > start and data[run - 1] == 0x5C:  # "\"
            run -= 1
        if run == end:
            pass  # no backslash before the cut
        elif run > start:
            end = run  # the whole run goes to the next line
        else:
            # The line is all backslashes: cut after an even number of the run, which may have
            # begun on an earlier line, so that every escape stays whole.
            first = run
            while first > 0 and data[first - 1] == 0x5C:
                first -= 1
            if (end - first) % 2:
                end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines begin with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")


def _line(name: str, value: str) -> str:
    line = f"{name}:{value}"
    if len(line) <= 75 and line.isascii():  # most lines: skip the call
        return line + CRLF
    return fold(line) + CRLF


def _text(name: str, value: str) -> str:
    return _line(name, escape_text(value))


def _utc(instant: dt.datetime) -> str:
    if instant.utcoffset():
        instant = instant.astimezone(dt.UTC)
    i = instant
    return f"{i.year:04d}{i.month:02d}{i.day:02d}T{i.hour:02d}{i.minute:02d}{i.second:02d}Z"


def _ymd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _hms(clock: dt.time) -> str:
    return f"{clock.hour:02d}{clock.minute:02d}{clock.second:02d}"


def _duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and not minutes:
        return f"PT{hours}H"
    return f"PT{hours}H{minutes}M" if hours else f"PT{minutes}M"


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


def _human_date(day: dt.date) -> str:
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


def meeting_page_url(base_url: str, slug: str, uid: str) -> str:
    return f"{base_url}/groups/{slug}#meeting-{uid}"


def _time_lines(meeting: Meeting) -> list[str]:
    """What DESCRIPTION says of when: the wall clock in its zone, and in UTC."""
    if meeting.start_time is None or meeting.end_time is None:
        return [f"Date: {_human_date(meeting.date)} (all day; the plan gives no time)"]
    zone_name = meeting.timezone
    start_utc, end_utc = meeting.start_utc, meeting.end_utc
    if start_utc is None or end_utc is None:  # not derived yet: derive as crud would
        start_utc = geneva.to_utc(meeting.date, meeting.start_time, zone_name)
        end_utc = geneva.to_utc(meeting.date, meeting.end_time, zone_name)
    # The instants are stored; reading the zone from UTC is much cheaper than localizing.
    start = geneva.local(start_utc, zone_name)
    minutes = int(start.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    sign = "-" if minutes < 0 else "+"
    offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    zone_label = "Geneva time" if zone_name == geneva.GENEVA else zone_name
    start_utc = start_utc.astimezone(dt.UTC)
    end_utc = end_utc.astimezone(dt.UTC)
    clock = meeting.start_time, meeting.end_time
    return [
        f"Time: {_human_date(meeting.date)}, {clock[0]:%H:%M}-{clock[1]:%H:%M} {zone_label}"
        f" ({start.tzname()}, UTC{offset})",
        f"UTC: {start_utc.hour:02d}:{start_utc.minute:02d}-{end_utc.hour:02d}:"
        f"{end_utc.minute:02d} UTC ({_human_date(start_utc.date())})",
    ]


@dataclass(frozen=True)
class _GroupParts:
    """What every event of one group says alike, rendered once per group version."""

    summary_prefix: str
    head: tuple[str, ...]
    static_lines: str


GroupPartsCache = dict[tuple[object, ...], _GroupParts]


def _group_parts(info: GroupInfo, ctx: FeedContext, cache: GroupPartsCache | None) -> _GroupParts:
    group = info.group
    # Group ids and versions are only unique within one store: the cache is per feed service.
    key = (group.id, group.version, info.parent.version if info.parent else 0, ctx)
    parts = cache.get(key) if cache is not None else None
    if parts is not None:
        return parts
    head = []
    if info.parent is not None:
        head.append(f"Thematic group: {info.parent.name}")
        head.append(f"Working group: {group.code} {group.name}".replace("None ", ""))
    else:
        head.append(f"Thematic group: {group.name}")
    if info.leaders:
        names = "; ".join(
            f"{leader.name} ({leader.affiliation})" if leader.affiliation else leader.name
            for leader in info.leaders
        )
        head.append(f"Leaders: {names}")
    parts = _GroupParts(
        summary_prefix=_summary_prefix(info),
        head=tuple(head),
        static_lines="".join(
            (
                _text("LOCATION", "Online"),
                "{url}",
                _line("ORGANIZER;CN=U4SSC secretariat", f"mailto:{ctx.organizer_email}"),
                _line("CATEGORIES", _categories(info)),
                _line("CLASS", "PUBLIC"),
            )
        ),
    )
    if cache is not None:
        if len(cache) > 4096:  # old versions of groups: drop them all, they rebuild cheaply
            cache.clear()
        cache[key] = parts
    return parts


def _description(meeting: Meeting, head: tuple[str, ...], page_url: str) -> str:
    parts = [*head, *_time_lines(meeting)]
    status = meeting.status
    if status == MeetingStatus.cancelled:
        parts.append("Status: CANCELLED")
    elif status == MeetingStatus.tentative:
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
    meeting: Meeting,
    info: GroupInfo,
    ctx: FeedContext,
    alarm_minutes: int | None = None,
    group_parts: GroupPartsCache | None = None,
) -> str:
    """One VEVENT, CRLF-terminated lines, folded at 75 octets: built by app.ical_event."""
    from app.ical_event import render_event as build  # it imports this module's helpers

    return build(meeting, info, ctx, alarm_minutes)


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
    """The whole feed: built by app.ical_calendar (icalendar's Calendar for the header)."""
    from app.ical_calendar import render_calendar as build  # it imports this module

    return build(header, ctx, zones, events)


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
    """Rendered VEVENT text per meeting version; bounded by entries and by characters held
    (each `alarm=` value renders every event anew, so a client could otherwise fill memory),
    least recently used goes first."""

    def __init__(self, max_entries: int = 200_000, max_chars: int = 128 * 1024 * 1024) -> None:
        self._entries: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._group_parts: GroupPartsCache = {}
        self._max = max_entries
        self._max_chars = max_chars
        self._chars = 0
        # Worker threads read and fill the cache together: an entry looked up by one may be
        # evicted by another before it is moved to the end, so each step holds the lock.
        self._lock = threading.Lock()
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
        with self._lock:
            text = self._entries.get(key)
            if text is not None:
                self.hits += 1
                self._entries.move_to_end(key)
        return text

    def get(self, meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm: int | None) -> str:
        text = self.peek(meeting, info, ctx, alarm)
        if text is not None:
            return text
        key = self.key(meeting, info, ctx, alarm)
        text = render_event(meeting, info, ctx, alarm, self._group_parts)
        with self._lock:
            self.misses += 1
            previous = self._entries.pop(key, None)
            self._chars += len(text) - (len(previous) if previous is not None else 0)
            self._entries[key] = text
            while len(self._entries) > 1 and (
                len(self._entries) > self._max or self._chars > self._max_chars
            ):
                self._chars -= len(self._entries.popitem(last=False)[1])
        return text

    def put(
        self,
        meeting: MeetingVersion,
        info: GroupInfo,
        ctx: FeedContext,
        alarm: int | None,
        text: str,
    ) -> None:
        """Hold text rendered elsewhere (the event store) as this meeting version's."""
        key = self.key(meeting, info, ctx, alarm)
        with self._lock:
            previous = self._entries.pop(key, None)
            self._chars += len(text) - (len(previous) if previous is not None else 0)
            self._entries[key] = text
            while len(self._entries) > 1 and (
                len(self._entries) > self._max or self._chars > self._max_chars
            ):
                self._chars -= len(self._entries.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
        self._group_parts.clear()
