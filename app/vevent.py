"""One meeting's VEVENT: its summary, description, times and alarm, as text that depends only on
the meeting, its group and the feed context; also the titles pages show for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app import ical, links, zones
from app.models import Meeting, MeetingStatus
from app.readmodel import GroupInfo


@dataclass(frozen=True)
class FeedContext:
    """What rendering needs besides the data: fixed for a process and base URL."""

    base_url: str
    uid_domain: str
    organizer_email: str
    refresh: dt.timedelta


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


def _time_lines(meeting: Meeting) -> list[str]:
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
                ical.text("LOCATION", "Online"),
                "{url}",
                ical.line("ORGANIZER;CN=U4SSC secretariat", f"mailto:{ctx.organizer_email}"),
                ical.line("CATEGORIES", _categories(info)),
                ical.line("CLASS", "PUBLIC"),
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
    return ",".join(ical.escape_text(name) for name in ["U4SSC", *names])


def render_event(
    meeting: Meeting,
    info: GroupInfo,
    ctx: FeedContext,
    alarm_minutes: int | None = None,
    group_parts: GroupPartsCache | None = None,
) -> str:
    """One VEVENT, ical.CRLF-terminated lines, folded at 75 octets."""
    parts = _group_parts(info, ctx, group_parts)
    uid = meeting.uid
    status = meeting.status
    page_url = links.meeting_page_url(ctx.base_url, info.slug, uid)
    summary = _summary(parts.summary_prefix, meeting)
    updated = ical.utc(meeting.updated_at)
    out = [
        "BEGIN:VEVENT" + ical.CRLF,
        ical.line("UID", f"{uid}@{ctx.uid_domain}"),
        ical.line("DTSTAMP", updated),
        ical.line("CREATED", ical.utc(meeting.created_at)),
        ical.line("LAST-MODIFIED", updated),
        ical.line("SEQUENCE", str(meeting.sequence)),
        ical.line("STATUS", status.upper()),
        ical.text("SUMMARY", summary),
    ]
    day, start_time, end_time = meeting.date, meeting.start_time, meeting.end_time
    all_day = start_time is None or end_time is None
    if all_day:
        out.append(ical.line("DTSTART;VALUE=DATE", ical.ymd(day)))
        out.append(ical.line("DTEND;VALUE=DATE", ical.ymd(day + dt.timedelta(days=1))))
        out.append("TRANSP:TRANSPARENT" + ical.CRLF)
        out.append("X-MICROSOFT-CDO-ALLDAYEVENT:TRUE" + ical.CRLF)
    else:
        assert start_time is not None and end_time is not None
        zone_name = meeting.timezone
        out.append(
            ical.line(f"DTSTART;TZID={zone_name}", f"{ical.ymd(day)}T{ical.hms(start_time)}")
        )
        out.append(ical.line(f"DTEND;TZID={zone_name}", f"{ical.ymd(day)}T{ical.hms(end_time)}"))
        out.append("TRANSP:OPAQUE" + ical.CRLF)
    out.append(parts.static_lines.replace("{url}", ical.line("URL;VALUE=URI", page_url), 1))
    if meeting.join_url:
        out.append(ical.line("CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join", meeting.join_url))
    out.append(ical.text("DESCRIPTION", _description(meeting, parts.head, page_url)))
    if alarm_minutes is not None and not all_day and status != MeetingStatus.cancelled:
        out += [
            "BEGIN:VALARM" + ical.CRLF,
            ical.line("ACTION", "DISPLAY"),
            ical.text("DESCRIPTION", summary),
            ical.line(
                "TRIGGER;RELATED=START",
                "-" + ical.duration(dt.timedelta(minutes=alarm_minutes))
                if alarm_minutes
                else "PT0S",
            ),
            "END:VALARM" + ical.CRLF,
        ]
    out.append("END:VEVENT" + ical.CRLF)
    return "".join(out)
