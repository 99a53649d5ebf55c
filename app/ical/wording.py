"""What a meeting's event says in words, in the feed's language: the feed context, its summary
and titles, and the time lines of its description (app.ical.event builds the VEVENT from them).

Every fixed word comes from the language's catalog (app.i18n.catalogs), whole sentences with
named placeholders; English is the catalog's source, so the English text is the msgid itself.
Group and meeting texts come from their translations where there are some (app.models.text_in).
Times stay HH:MM in every language, and the UTC line names the exact instants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from app.core.config import Settings
from app.i18n.catalogs import translator
from app.i18n.dates import long_date
from app.i18n.languages import DEFAULT
from app.models import Meeting, MeetingStatus, text_in
from app.readmodel.groups import GroupInfo
from app.timezone import zones


@dataclass(frozen=True)
class FeedContext:
    """What rendering needs besides the data: fixed for a process, base URL and language."""

    base_url: str
    uid_domain: str
    organizer_email: str
    refresh: dt.timedelta
    # Out of repr: ETags and stored texts are keyed by repr(ctx), and English keeps its tags
    # and stored texts of before languages existed (app.feeds.event_store adds the language).
    lang: str = dataclasses.field(default=DEFAULT, repr=False)

    @classmethod
    def of(cls, settings: Settings, base_url: str, lang: str = DEFAULT) -> FeedContext:
        """The one way a context is made (routes, fast path, messages): the same event text
        wherever an event is rendered for this base URL and language."""
        return cls(
            base_url=base_url,
            uid_domain=settings.uid_domain,
            organizer_email=settings.organizer_email,
            refresh=settings.refresh_interval,
            lang=lang,
        )

    def speaking(self, lang: str) -> FeedContext:
        """This context in `lang` (itself when it speaks it already)."""
        return self if lang == self.lang else dataclasses.replace(self, lang=lang)


def meeting_title(meeting: Meeting, lang: str = DEFAULT) -> str | None:
    """The meeting's own title for a reader of `lang`: its translation, else the English title
    (None when neither is given)."""
    return text_in(meeting.translations, "title", lang, meeting.title or "")[0] or None


def meeting_summary(meeting: Meeting, info: GroupInfo, lang: str = DEFAULT) -> str:
    """ "U4SSC AI in cities WG2 Autonomous Cities: e-meeting", marked when cancelled."""
    _ = translator(lang)
    title = meeting_title(meeting, lang) or _("e-meeting")
    summary = _("U4SSC %(group)s: %(title)s") % {"group": info.label_in(lang), "title": title}
    if meeting.status == MeetingStatus.cancelled:
        summary = _("Cancelled: %(summary)s") % {"summary": summary}
    return summary


def default_title(info: GroupInfo, lang: str = DEFAULT) -> str:
    """What a meeting without a title is called: "AI in cities WG2 ...: e-meeting"."""
    _ = translator(lang)
    return _("%(group)s: e-meeting") % {"group": info.label_in(lang)}


def one_meeting_description(info: GroupInfo, lang: str = DEFAULT) -> str:
    """The description of a calendar that holds one meeting."""
    _ = translator(lang)
    return _("One U4SSC e-meeting of %(group)s.") % {"group": info.label_in(lang)}


def time_lines(meeting: Meeting, lang: str = DEFAULT) -> list[str]:
    """What DESCRIPTION says of when: the wall clock in its zone, and in UTC."""
    _ = translator(lang)
    if meeting.start_time is None or meeting.end_time is None:
        date = long_date(meeting.date, lang)
        return [_("Date: %(date)s (all day; the plan gives no time)") % {"date": date}]
    zone_name = meeting.timezone
    start_utc, end_utc = meeting.start_utc, meeting.end_utc
    if start_utc is None or end_utc is None:  # not derived yet: derive as crud would
        start_utc = zones.to_utc(meeting.date, meeting.start_time, zone_name)
        end_utc = zones.to_utc(meeting.date, meeting.end_time, zone_name)
    # The instants are stored; reading the zone from UTC is much cheaper than localizing.
    start = zones.local(start_utc, zone_name)
    offset = zones.format_offset(start.utcoffset() or dt.timedelta(0), ":", seconds=False)
    zone_label = _("Geneva time") if zone_name == zones.GENEVA else zone_name
    start_utc = start_utc.astimezone(dt.UTC)
    end_utc = end_utc.astimezone(dt.UTC)
    local = _("Time: %(date)s, %(start)s-%(end)s %(zone)s (%(abbreviation)s, UTC%(offset)s)")
    utc = _("UTC: %(start)s-%(end)s UTC (%(date)s)")
    return [
        local
        % {
            "date": long_date(meeting.date, lang),
            "start": f"{meeting.start_time:%H:%M}",
            "end": f"{meeting.end_time:%H:%M}",
            "zone": zone_label,
            "abbreviation": start.tzname(),
            "offset": offset,
        },
        utc
        % {
            "start": f"{start_utc.hour:02d}:{start_utc.minute:02d}",
            "end": f"{end_utc.hour:02d}:{end_utc.minute:02d}",
            "date": long_date(start_utc.date(), lang),
        },
    ]
