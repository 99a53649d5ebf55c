"""When a meeting is, in words, in a reader's language: the day, the Geneva time and UTC, for
mail (announcements, invitations) and the Atom change feed. Geneva time whatever zone a meeting
was written in; times stay HH:MM in every language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.i18n.catalogs import translator
from app.i18n.dates import weekday_date
from app.i18n.languages import DEFAULT
from app.models import Meeting
from app.timezone import zones


def when_text(
    day: dt.date,
    start: dt.time | None,
    end: dt.time | None,
    zone: str = zones.GENEVA,
    lang: str = DEFAULT,
) -> str:
    """ "Thursday 4 March 2027, 16:00-17:00 Geneva time", in Geneva time whatever the zone the
    meeting was written in; "Thursday 4 March 2027 (all day)" without times."""
    _ = translator(lang)
    if start is None or end is None:
        return _("%(day)s (all day)") % {"day": weekday_date(day, lang)}
    begin = zones.local(zones.to_utc(day, start, zone))
    finish = zones.local(zones.to_utc(day, end, zone))
    return _("%(day)s, %(start)s-%(end)s Geneva time") % {
        "day": weekday_date(begin.date(), lang),
        "start": f"{begin:%H:%M}",
        "end": f"{finish:%H:%M}",
    }


def utc_when_text(
    day: dt.date,
    start: dt.time | None,
    end: dt.time | None,
    zone: str = zones.GENEVA,
    lang: str = DEFAULT,
) -> str | None:
    """ "Thursday 4 March 2027, 15:00-16:00 UTC"; None without times."""
    if start is None or end is None:
        return None
    begin = zones.to_utc(day, start, zone).astimezone(dt.UTC)
    finish = zones.to_utc(day, end, zone).astimezone(dt.UTC)
    _ = translator(lang)
    return _("%(day)s, %(start)s-%(end)s UTC") % {
        "day": weekday_date(begin.date(), lang),
        "start": f"{begin:%H:%M}",
        "end": f"{finish:%H:%M}",
    }


def utc_text(meeting: Meeting, lang: str = DEFAULT) -> str | None:
    day, start, end = meeting.date, meeting.start_time, meeting.end_time
    return utc_when_text(day, start, end, meeting.timezone, lang)


def meeting_when(meeting: Meeting, lang: str = DEFAULT) -> str:
    return when_text(meeting.date, meeting.start_time, meeting.end_time, meeting.timezone, lang)


def snapshot_when(snapshot: dict[str, Any], lang: str = DEFAULT) -> tuple[str, str | None]:
    """A meeting's time as its audit record has it: in Geneva time, and in UTC (None without
    times)."""

    def clock(value: Any) -> dt.time | None:
        return dt.time.fromisoformat(value) if value else None

    day = dt.date.fromisoformat(snapshot["date"])
    start, end = clock(snapshot.get("start_time")), clock(snapshot.get("end_time"))
    zone = snapshot.get("timezone") or zones.GENEVA
    return when_text(day, start, end, zone, lang), utc_when_text(day, start, end, zone, lang)
