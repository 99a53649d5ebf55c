"""One meeting as its VEVENT text, built with the icalendar library (Event, Alarm, its property
types, its escaping and its folding): the same data gives the same bytes in every process.

Nothing here is random or read from the clock: UID comes from the meeting's uid, DTSTAMP and
LAST-MODIFIED from the record's change time. Properties and parameters keep the order they are
added in (`to_ical(sorted=False)`), so the text reads like the feeds always did.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Alarm, Event, vCalAddress, vCategory, vText, vUri

from app.i18n.catalogs import translator
from app.ical.text import escape_text
from app.ical.wording import FeedContext, meeting_summary, time_lines
from app.models import Meeting, MeetingStatus, text_in
from app.readmodel.groups import GroupInfo, name_in
from app.readmodel.links import meeting_page_url

# Raised whenever the rendering below changes what it writes: stored event text rendered by
# an older version of this module is then stale and rendered again (app.feeds.event_store).
RENDERER_VERSION = 2  # 2: LOCATION carries the join URL


class Text(vText):
    """icalendar's TEXT, escaped as RFC 5545 says: its own escaping first turns the two
    characters \\N of a title into a line break (icalendar 7.x), which no writer may do."""

    def to_ical(self) -> bytes:
        return escape_text(str(self)).encode("utf-8")


class Categories(vCategory):
    """icalendar's CATEGORIES, each name escaped as Text is."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.cats = [Text(name) for name in names]


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC).replace(microsecond=0)


def _coded(info: GroupInfo, lang: str) -> str:
    """ "WG2 Autonomous Cities": a working group's code and name."""
    name = name_in(info.group, lang)
    return f"{info.group.code} {name}" if info.group.code else name


def _group_head(info: GroupInfo, lang: str) -> list[str]:
    _ = translator(lang)
    head = []
    if info.parent is not None:
        head.append(_("Thematic group: %(name)s") % {"name": name_in(info.parent, lang)})
        head.append(_("Working group: %(name)s") % {"name": _coded(info, lang)})
    else:
        head.append(_("Thematic group: %(name)s") % {"name": name_in(info.group, lang)})
    if info.leaders:
        names = "; ".join(
            f"{leader.name} ({leader.affiliation})" if leader.affiliation else leader.name
            for leader in info.leaders
        )
        head.append(_("Leaders: %(names)s") % {"names": names})
    return head


def _description(meeting: Meeting, info: GroupInfo, page_url: str, lang: str) -> str:
    _ = translator(lang)
    parts = [*_group_head(info, lang), *time_lines(meeting, lang)]
    if meeting.status == MeetingStatus.cancelled:
        parts.append(_("Status: CANCELLED"))
    elif meeting.status == MeetingStatus.tentative:
        parts.append(_("Status: tentative"))
    if meeting.join_url:
        parts.append(_("Join: %(url)s") % {"url": meeting.join_url})
    description = text_in(meeting.translations, "description", lang, meeting.description or "")
    if description[0]:
        parts += ["", description[0]]
    parts += ["", _("More: %(url)s") % {"url": page_url}]
    return "\n".join(parts)


def _categories(info: GroupInfo, lang: str) -> list[str]:
    if info.parent is not None:
        return ["U4SSC", name_in(info.parent, lang), _coded(info, lang)]
    return ["U4SSC", name_in(info.group, lang)]


def _wall_clock(day: dt.date, clock: dt.time) -> dt.datetime:
    # Naive wall clock with an explicit TZID: the zone's VTIMEZONE is written by
    # app.timezone.vtimezone.
    return dt.datetime.combine(day, clock).replace(microsecond=0)


def build_event(
    meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm_minutes: int | None = None
) -> Event:
    """The meeting's VEVENT as an icalendar component."""
    lang = ctx.lang
    _ = translator(lang)
    page_url = meeting_page_url(ctx.base_url, info.slug, meeting.uid)
    summary = meeting_summary(meeting, info, lang)
    updated = _utc(meeting.updated_at)
    event = Event()
    event.add("uid", Text(f"{meeting.uid}@{ctx.uid_domain}"))
    event.add("dtstamp", updated)
    event.add("created", _utc(meeting.created_at))
    event.add("last-modified", updated)
    event.add("sequence", meeting.sequence)
    event.add("status", Text(str(meeting.status).upper()))
    event.add("summary", Text(summary))
    day, start_time, end_time = meeting.date, meeting.start_time, meeting.end_time
    all_day = start_time is None or end_time is None
    if all_day:
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("transp", Text("TRANSPARENT"))
        event.add("x-microsoft-cdo-alldayevent", Text("TRUE"))
    else:
        assert start_time is not None and end_time is not None
        zone = {"TZID": meeting.timezone}
        event.add("dtstart", _wall_clock(day, start_time), parameters=zone)
        event.add("dtend", _wall_clock(day, end_time), parameters=zone)
        event.add("transp", Text("OPAQUE"))
    # Google and Outlook show LOCATION and ignore CONFERENCE: the join link goes in both.
    event.add("location", Text(meeting.join_url or _("Online")))
    event.add("url", vUri(page_url), parameters={"VALUE": "URI"})
    organizer = vCalAddress(f"mailto:{ctx.organizer_email}")
    organizer.params["CN"] = _("U4SSC secretariat")
    event.add("organizer", organizer)
    event.add("categories", Categories(_categories(info, lang)))
    event.add("class", Text("PUBLIC"))
    if meeting.join_url:
        event.add(
            "conference",
            vUri(meeting.join_url),
            parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": _("Join")},
        )
    event.add("description", Text(_description(meeting, info, page_url, lang)))
    if alarm_minutes is not None and not all_day and meeting.status != MeetingStatus.cancelled:
        alarm = Alarm()
        alarm.add("action", Text("DISPLAY"))
        alarm.add("description", Text(summary))
        alarm.add("trigger", -dt.timedelta(minutes=alarm_minutes), parameters={"RELATED": "START"})
        event.add_component(alarm)
    return event


def render_event(
    meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm_minutes: int | None = None
) -> str:
    """One VEVENT, CRLF-terminated lines folded at 75 octets by icalendar."""
    text: bytes = build_event(meeting, info, ctx, alarm_minutes).to_ical(sorted=False)
    return text.decode("utf-8")
