"""A feed's VCALENDAR as bytes: its header built with icalendar's Calendar, then the
hand-written RRULE-form VTIMEZONEs (app.timezone.vtimezone), then the stored VEVENT texts, in
order."""

from __future__ import annotations

from collections.abc import Sequence

from icalendar import Calendar, vDuration, vUri

from app.ical.event import Text
from app.ical.header import FeedHeader, calendar_zone
from app.ical.text import PRODID
from app.ical.wording import FeedContext
from app.timezone import vtimezone

_END = b"END:VCALENDAR\r\n"


def calendar_head(
    header: FeedHeader, ctx: FeedContext, zones: dict[str, int], method: str = "PUBLISH"
) -> bytes:
    """Every line of the calendar before its first component; METHOD is PUBLISH but for the
    invitations (REQUEST, CANCEL) sent to each subscriber."""
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("name", Text(header.name))
    calendar.add("x-wr-calname", Text(header.name))
    calendar.add("description", Text(header.description))
    calendar.add("x-wr-caldesc", Text(header.description))
    calendar.add("x-wr-timezone", Text(calendar_zone(zones)))
    refresh = vDuration(ctx.refresh)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(ctx.refresh))
    calendar.add("source", vUri(header.source_url), parameters={"VALUE": "URI"})
    calendar.add("url", vUri(header.page_url), parameters={"VALUE": "URI"})
    text: bytes = calendar.to_ical(sorted=False)
    assert text.endswith(_END)
    return text[: -len(_END)]


def render_calendar(
    header: FeedHeader,
    ctx: FeedContext,
    zones: dict[str, int],
    events: Sequence[bytes],
    method: str = "PUBLISH",
) -> bytes:
    """The whole feed: header, one VTIMEZONE per zone its timed events use, the events (as
    UTF-8 bytes), joined once."""
    parts = [calendar_head(header, ctx, zones, method)]
    for name in sorted(zones):
        parts.append(
            "".join(line + "\r\n" for line in vtimezone.vtimezone_lines(name, zones[name])).encode()
        )
    return b"".join([*parts, *events, _END])
