"""A feed's bytes assembled from rendered events: the calendar header, one VTIMEZONE per zone
its timed events use, then the events; byte-for-byte deterministic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app import ical, vtimezone, zones
from app.models import Meeting
from app.vevent import FeedContext


@dataclass(frozen=True)
class FeedHeader:
    name: str
    description: str
    source_url: str
    page_url: str


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


def render_calendar(
    header: FeedHeader, ctx: FeedContext, zones: dict[str, int], events: Sequence[str]
) -> bytes:
    refresh = ical.duration(ctx.refresh)
    parts = [
        "BEGIN:VCALENDAR" + ical.CRLF,
        ical.line("VERSION", "2.0"),
        ical.line("PRODID", ical.PRODID),
        ical.line("CALSCALE", "GREGORIAN"),
        ical.line("METHOD", "PUBLISH"),
        ical.text("NAME", header.name),
        ical.text("X-WR-CALNAME", header.name),
        ical.text("DESCRIPTION", header.description),
        ical.text("X-WR-CALDESC", header.description),
        ical.line("X-WR-TIMEZONE", calendar_zone(zones)),
        ical.line("REFRESH-INTERVAL;VALUE=DURATION", refresh),
        ical.line("X-PUBLISHED-TTL", refresh),
        ical.line("SOURCE;VALUE=URI", header.source_url),
        ical.line("URL;VALUE=URI", header.page_url),
    ]
    for name in sorted(zones):
        parts.extend(line + ical.CRLF for line in vtimezone.vtimezone_lines(name, zones[name]))
    parts.extend(events)
    parts.append("END:VCALENDAR" + ical.CRLF)
    return "".join(parts).encode("utf-8")
