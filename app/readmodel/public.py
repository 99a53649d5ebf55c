"""Rows as the API shows them: the public models, with absolute links."""

from __future__ import annotations

from app.ical.wording import default_title
from app.models import GROUP_FIELDS, GroupPublic, Meeting, MeetingPublic, clock_text
from app.readmodel.groups import GroupInfo
from app.readmodel.links import feed_url, meeting_page_url, webcal
from app.timezone import zones


def group_public(info: GroupInfo, base_url: str) -> GroupPublic:
    g = info.group
    url = feed_url(base_url, (g.slug,))
    stored = {name: getattr(g, name) for name in GROUP_FIELDS if name not in ("parent", "leaders")}
    return GroupPublic(
        **stored,
        parent=info.parent.slug if info.parent else None,
        leaders=list(info.leaders),
        working_groups=list(info.children),
        updated_at=g.updated_at,
        feed_url=url,
        webcal_url=webcal(url),
    )


# What MeetingPublic shows of a Meeting row as it is; the group (a slug for the row's group_id),
# the title (a default when there is none), the times (HH:MM), the zone's instants and the
# links are worked out below.
_AS_STORED = tuple(
    name
    for name in MeetingPublic.model_fields
    if name in Meeting.model_fields and name not in ("title", "start_time", "end_time")
)


def meeting_public(meeting: Meeting, info: GroupInfo, base_url: str) -> MeetingPublic:
    timed = meeting.start_time is not None and meeting.end_time is not None
    start = end = None
    if timed and meeting.start_utc is not None and meeting.end_utc is not None:
        # The instants were derived on write; reading the zone from them is cheaper than
        # localizing the wall clock again.
        start = zones.local(meeting.start_utc, meeting.timezone)
        end = zones.local(meeting.end_utc, meeting.timezone)
    url = f"{base_url}/meetings/{meeting.uid}.ics"
    return MeetingPublic(
        **{name: getattr(meeting, name) for name in _AS_STORED},
        group=info.slug,
        title=meeting.title or default_title(info),
        all_day=not timed,
        start_time=clock_text(meeting.start_time),
        end_time=clock_text(meeting.end_time),
        start=start,
        end=end,
        url=meeting_page_url(base_url, info.slug, meeting.uid),
        feed_url=url,
        webcal_url=webcal(url),
    )
