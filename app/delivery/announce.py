"""The mailing-list announcement of a meeting: subject, plain text and the calendar part.

The calendar part is rendered by app.ical.event and app.ical.calendar, the feeds' renderers,
so its VEVENT has the UID and SEQUENCE that subscribers see at that moment. The message is
built with the standard library's email package (policy SMTP): non-ASCII subjects become
RFC 2047 words and parts are UTF-8.
"""

from __future__ import annotations

import datetime as dt
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from app.ical import wording
from app.ical.calendar import render_calendar
from app.ical.event import render_event
from app.ical.header import meeting_header, zones_needed
from app.models import Meeting, MeetingStatus
from app.readmodel import links
from app.readmodel.groups import GroupInfo
from app.readmodel.links import feed_url, webcal
from app.timezone import zones

CREATED = "created"
RESCHEDULED = "rescheduled"
UPDATED = "updated"
CANCELLED = "cancelled"

PREFIXES = {RESCHEDULED: "Rescheduled: ", CANCELLED: "Cancelled: "}
TIME_FIELDS = ("date", "start_time", "end_time", "timezone")

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def kind_of(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """What a change of a meeting was (from its audit record): created, cancelled,
    rescheduled (its date, times or zone moved) or otherwise updated."""
    before, after = before or {}, after or {}
    if action == "create":
        return CREATED
    if after.get("status") == MeetingStatus.cancelled != before.get("status"):
        return CANCELLED
    if any(before.get(name) != after.get(name) for name in TIME_FIELDS):
        return RESCHEDULED
    return UPDATED


def human_day(day: dt.date) -> str:
    """ "Thursday 4 March 2027", whatever the server's locale."""
    return f"{_DAYS[day.weekday()]} {wording.human_date(day)}"


def when_text(
    day: dt.date, start: dt.time | None, end: dt.time | None, zone: str = zones.GENEVA
) -> str:
    """ "Thursday 4 March 2027, 16:00-17:00 Geneva time", in Geneva time whatever the zone the
    meeting was written in; "Thursday 4 March 2027 (all day)" without times."""
    if start is None or end is None:
        return f"{human_day(day)} (all day)"
    begin = zones.local(zones.to_utc(day, start, zone))
    finish = zones.local(zones.to_utc(day, end, zone))
    return f"{human_day(begin.date())}, {begin:%H:%M}-{finish:%H:%M} Geneva time"


def utc_when_text(
    day: dt.date, start: dt.time | None, end: dt.time | None, zone: str = zones.GENEVA
) -> str | None:
    """ "Thursday 4 March 2027, 15:00-16:00 UTC"; None without times."""
    if start is None or end is None:
        return None
    begin = zones.to_utc(day, start, zone).astimezone(dt.UTC)
    finish = zones.to_utc(day, end, zone).astimezone(dt.UTC)
    return f"{human_day(begin.date())}, {begin:%H:%M}-{finish:%H:%M} UTC"


def utc_text(meeting: Meeting) -> str | None:
    return utc_when_text(meeting.date, meeting.start_time, meeting.end_time, meeting.timezone)


def meeting_when(meeting: Meeting) -> str:
    return when_text(meeting.date, meeting.start_time, meeting.end_time, meeting.timezone)


def snapshot_when(snapshot: dict[str, Any]) -> tuple[str, str | None]:
    """A meeting's time as its audit record has it: in Geneva time, and in UTC (None without
    times)."""

    def clock(value: Any) -> dt.time | None:
        return dt.time.fromisoformat(value) if value else None

    day = dt.date.fromisoformat(snapshot["date"])
    start, end = clock(snapshot.get("start_time")), clock(snapshot.get("end_time"))
    zone = snapshot.get("timezone") or zones.GENEVA
    return when_text(day, start, end, zone), utc_when_text(day, start, end, zone)


def subject(meeting: Meeting, info: GroupInfo, kind: str) -> str:
    """ "U4SSC e-meeting: AI in cities WG2 Autonomous Cities, Thursday 4 March 2027,
    16:00-17:00 Geneva time", the title after the group when it has one."""
    what = info.label + (f": {meeting.title}" if meeting.title else "")
    return f"{PREFIXES.get(kind, '')}U4SSC e-meeting: {what}, {meeting_when(meeting)}"


def _leaders(info: GroupInfo) -> str:
    names = [f"{x.name} ({x.affiliation})" if x.affiliation else x.name for x in info.leaders]
    return "; ".join(names) or "not stated"


def text_body(
    meeting: Meeting,
    info: GroupInfo,
    ctx: wording.FeedContext,
    kind: str,
    moved_from: dict[str, Any] | None = None,
) -> str:
    """The plain-text part; `moved_from` (the audit record before a reschedule) adds the old
    time, so a reader sees what moved."""
    group_feed = feed_url(ctx.base_url, (info.slug,))
    lines = {
        CREATED: "A U4SSC e-meeting has been scheduled.",
        RESCHEDULED: "A U4SSC e-meeting has been rescheduled.",
        UPDATED: "A U4SSC e-meeting has been updated.",
        CANCELLED: "This U4SSC e-meeting has been CANCELLED.",
    }
    out = [lines.get(kind, lines[UPDATED]), ""]
    if info.parent is not None:
        out.append(f"Thematic group: {info.parent.name}")
        out.append(f"Working group: {info.group.code or ''} {info.group.name}".replace("  ", " "))
    else:
        out.append(f"Thematic group: {info.group.name}")
    out.append(f"Leaders: {_leaders(info)}")
    if meeting.title:
        out.append(f"Title: {meeting.title}")
    if kind == RESCHEDULED and moved_from:
        was, was_utc = snapshot_when(moved_from)
        out.append(f"Moved from (Geneva time): {was}")
        if was_utc:
            out.append(f"Moved from (UTC): {was_utc}")
        out.append(f"Moved to (Geneva time): {meeting_when(meeting)}")
    else:
        out.append(f"When (Geneva time): {meeting_when(meeting)}")
    in_utc = utc_text(meeting)
    if in_utc:
        out.append(
            f"{'Moved to' if kind == RESCHEDULED and moved_from else 'When'} (UTC): {in_utc}"
        )
    if meeting.join_url and kind != CANCELLED:
        out.append(f"Join: {meeting.join_url}")
    if meeting.description:
        out += ["", meeting.description]
    out += [
        "",
        f"Group page: {ctx.base_url}/groups/{info.slug}",
        f"This meeting: {links.meeting_page_url(ctx.base_url, info.slug, meeting.uid)}",
        f"Subscribe to the group's meetings: {group_feed}",
        f"  (calendar apps: {webcal(group_feed)})",
        "",
        "The attached calendar entry updates the same event in your calendar.",
    ]
    return "\n".join(out) + "\n"


def calendar_part(meeting: Meeting, info: GroupInfo, ctx: wording.FeedContext) -> bytes:
    """The meeting as a one-event calendar, with the feed's own VEVENT."""
    header = meeting_header(meeting, info, ctx)
    event = render_event(meeting, info, ctx).encode("utf-8")
    return render_calendar(header, ctx, zones_needed([meeting]), [event])


# Headers set raw (the Subject below) are written as given, not folded again by the email package.
MAIL_POLICY = policy.SMTP.clone(refold_source="none")


def set_subject(message: EmailMessage, text: str) -> None:
    """The Subject in RFC 2047 words that mail clients read back exactly. The email package's
    own folding writes an empty encoded word (`=?utf-8?q??=`) for some mixes of ASCII and other
    scripts (issue 21); email.header.Header splits the text into whole words instead. An ASCII
    subject stays one line (well under the 998 octets a line may have)."""
    if text.isascii():
        message.set_raw("Subject", text)
    else:
        encoded = Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n")
        message.set_raw("Subject", encoded)


def message_id_header(message_id: str, domain: str) -> str:
    return f"<{message_id}@{domain}>"


def build(
    meeting: Meeting,
    info: GroupInfo,
    ctx: wording.FeedContext,
    kind: str,
    *,
    message_id: str,
    mail_from: str,
    to: str,
    moved_from: dict[str, Any] | None = None,
) -> EmailMessage:
    """The announcement: To the list, plain text and text/calendar; method=PUBLISH."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = f"U4SSC secretariat <{mail_from}>"
    message["To"] = to
    set_subject(message, subject(meeting, info, kind))
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id_header(message_id, ctx.uid_domain)
    message.set_content(text_body(meeting, info, ctx, kind, moved_from))
    # As bytes (base64): text would have its CRLF line ends, which RFC 5545 requires, rewritten.
    message.add_alternative(
        calendar_part(meeting, info, ctx),
        maintype="text",
        subtype="calendar",
        params={"method": "PUBLISH", "charset": "utf-8"},
    )
    return message
