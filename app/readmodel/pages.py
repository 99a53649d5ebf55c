"""What the pages show of groups and meetings, in the page's language: a group's name and scope
and a meeting's title from their translations where there are some (each text with the language
it is in, so a page marks the English it falls back to), statuses and times in words (the Geneva
wall clock and UTC stay exact HH:MM), and every way to subscribe to a feed, its links carrying
the language (`?lang=fr`; English links stay as they were)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import quote

from sqlmodel import Session

from app import crud
from app.i18n import catalogs
from app.i18n.dates import weekday_date
from app.i18n.languages import DEFAULT
from app.ical.wording import default_title
from app.models import GroupPublic, Meeting, MeetingPublic, MeetingStatus, Texts, text_in
from app.readmodel.groups import GroupInfo
from app.readmodel.links import calendar_label, feed_url, in_language, status_words, webcal
from app.readmodel.public import group_public, meeting_public
from app.timezone import zones

DASH = "\N{EN DASH}"
INDEX_NEXT = 2
INDEX_RECENT = 3


class Shown(NamedTuple):
    """A text as a page shows it, and the language it is written in: a translation, or the
    English field when there is none."""

    text: str
    lang: str

    def __str__(self) -> str:
        return self.text


def shown_in(translations: Texts | None, name: str, lang: str, english: str) -> Shown:
    return Shown(*text_in(translations, name, lang, english))


def label_in(info: GroupInfo, lang: str) -> Shown:
    """The group's label ("Autonomous Cities (WG2)") with its name in `lang` where translated:
    links.calendar_label's text, and the language it is in."""
    group = info.group
    found = text_in(group.translations, "name", lang, group.name)[1]
    return Shown(calendar_label(info, found), found)


@dataclass(frozen=True)
class Subscribe:
    """Every way to subscribe to one feed, each an exact URL."""

    key: str
    name: str
    https: str

    @property
    def webcal(self) -> str:
        return webcal(self.https)

    @property
    def google(self) -> str:
        return "https://calendar.google.com/calendar/r?cid=" + quote(self.webcal, safe="")

    @property
    def outlook(self) -> str:
        return (
            "https://outlook.live.com/calendar/0/addfromweb?url="
            + quote(self.https, safe="")
            + "&name="
            + quote(self.name, safe="")
        )


@dataclass(frozen=True)
class MeetingView:
    public: MeetingPublic
    group_label: str
    group_slug: str
    geneva_text: str
    utc_text: str | None
    start_utc: str | None
    end_utc: str | None
    lang: str = DEFAULT
    group_shown: Shown | None = None
    # A meeting without a title of its own: what it is called in the page's language.
    untitled: str | None = None

    @property
    def title(self) -> Shown:
        shown = shown_in(self.public.translations, "title", self.lang, self.public.title)
        if shown.lang == DEFAULT and self.untitled is not None:
            return Shown(self.untitled, self.lang)
        return shown

    @property
    def group(self) -> Shown:
        """The group's label in the page's language (the English label when untranslated)."""
        return self.group_shown or Shown(self.group_label, DEFAULT)

    @property
    def cancelled(self) -> bool:
        return self.public.status == MeetingStatus.cancelled

    @property
    def badged(self) -> bool:
        """A status other than the usual one is shown as a badge beside the title."""
        return self.public.status != MeetingStatus.confirmed

    @property
    def title_names_group(self) -> bool:
        """Default titles already name the group: no need to say it twice."""
        return (
            self.group_label.split(" (")[0] in self.public.title
            or self.group.text.split(" (")[0] in self.title.text
        )

    @property
    def status_label(self) -> str:
        return status_words(self.public.status, self.lang)

    @property
    def ics(self) -> str:
        """The meeting alone as .ics, in the page's language."""
        return in_language(f"/meetings/{self.public.uid}.ics", self.lang)


@dataclass
class GroupView:
    public: GroupPublic
    label: Shown
    subscribe: Subscribe
    parent: GroupPublic | None = None
    meetings: list[MeetingView] = field(default_factory=list)
    children: list[GroupView] = field(default_factory=list)
    today: dt.date = field(default_factory=lambda: dt.date.today())
    lang: str = DEFAULT

    @property
    def name(self) -> Shown:
        return shown_in(self.public.translations, "name", self.lang, self.public.name)

    @property
    def scope(self) -> Shown | None:
        scope = shown_in(self.public.translations, "scope", self.lang, self.public.scope or "")
        return scope if scope.text else None

    @property
    def parent_name(self) -> Shown | None:
        if self.parent is None:
            return None
        return shown_in(self.parent.translations, "name", self.lang, self.parent.name)

    @property
    def status_label(self) -> str:
        return status_words(self.public.status, self.lang)

    @property
    def upcoming(self) -> list[MeetingView]:
        return [m for m in self.meetings if m.public.date >= self.today]

    @property
    def past(self) -> list[MeetingView]:
        return [m for m in self.meetings if m.public.date < self.today]

    @property
    def next_few(self) -> list[MeetingView]:
        return self.upcoming[:INDEX_NEXT]

    @property
    def past_few(self) -> list[MeetingView]:
        return self.past[-INDEX_RECENT:]


def _iso_utc(instant: dt.datetime | None) -> str | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_view(meeting: Meeting, info: GroupInfo, base: str, lang: str = DEFAULT) -> MeetingView:
    _ = catalogs.translator(lang)
    public = meeting_public(meeting, info, base)
    label = calendar_label(info)
    group = label_in(info, lang)
    untitled = None if meeting.title else default_title(info, lang)
    if public.start_utc is None or public.end_utc is None:
        all_day = _("%(day)s, all day") % {"day": weekday_date(public.date, lang)}
        return MeetingView(
            public, label, info.slug, all_day, None, None, None, lang, group, untitled
        )
    start_utc = public.start_utc.replace(tzinfo=public.start_utc.tzinfo or dt.UTC)
    end_utc = public.end_utc.replace(tzinfo=public.end_utc.tzinfo or dt.UTC)
    # Shown in Geneva time even when written in another zone: the page speaks one zone.
    start = zones.local(start_utc)
    end = zones.local(end_utc)
    start_u, end_u = start_utc.astimezone(dt.UTC), end_utc.astimezone(dt.UTC)
    geneva_text = _("%(day)s, %(times)s Geneva time (%(zone)s)") % {
        "day": weekday_date(start.date(), lang),
        "times": f"{start:%H:%M}{DASH}{end:%H:%M}",
        "zone": start.tzname(),
    }
    utc_times = f"{start_u:%H:%M}{DASH}{end_u:%H:%M}"
    if start_u.date() == start.date():
        utc_text = _("%(times)s UTC") % {"times": utc_times}
    else:
        utc_day = weekday_date(start_u.date(), lang)
        utc_text = _("%(times)s UTC (%(day)s)") % {"times": utc_times, "day": utc_day}
    return MeetingView(
        public,
        label,
        info.slug,
        geneva_text,
        utc_text,
        _iso_utc(start_utc),
        _iso_utc(end_utc),
        lang,
        group,
        untitled,
    )


def geneva_today() -> dt.date:
    return zones.local_date(dt.datetime.now(dt.UTC))


def group_views(
    session: Session, index: dict[int, GroupInfo], base: str, lang: str = DEFAULT
) -> tuple[list[GroupView], dict[str, GroupView]]:
    """Thematic groups (each holding its working groups, meetings sorted) and all by slug."""
    today = geneva_today()
    by_id: dict[int, GroupView] = {}
    for gid, info in index.items():
        label = label_in(info, lang)
        url = in_language(feed_url(base, (info.slug,)), lang)
        by_id[gid] = GroupView(
            public=group_public(info, base),
            label=label,
            subscribe=Subscribe(info.slug, f"U4SSC: {label.text}", url),
            parent=group_public(index[info.parent.id], base)
            if info.parent is not None and info.parent.id is not None
            else None,
            today=today,
            lang=lang,
        )
    meetings, _ = crud.list_meetings(session, crud.MeetingQuery())
    for meeting in meetings:
        by_id[meeting.group_id].meetings.append(
            meeting_view(meeting, index[meeting.group_id], base, lang)
        )
    roots: list[GroupView] = []
    for gid, info in index.items():
        if info.parent is None:
            roots.append(by_id[gid])
        elif info.parent.id is not None:
            by_id[info.parent.id].children.append(by_id[gid])
    return roots, {view.public.slug: view for view in by_id.values()}
