"""Rows as the API shows them: the public models, with absolute links."""

from __future__ import annotations

from app import zones
from app.links import feed_url, meeting_page_url, webcal
from app.models import GROUP_FIELDS, GroupPublic, Meeting, MeetingPublic
from app.readmodel import GroupInfo
from app.vevent import default_title


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
        uid=meeting.uid,
        group=info.slug,
        title=meeting.title or default_title(info),
        status=meeting.status,
        all_day=not timed,
        date=meeting.date,
        start_time=meeting.start_time.strftime("%H:%M") if meeting.start_time else None,
        end_time=meeting.end_time.strftime("%H:%M") if meeting.end_time else None,
        timezone=meeting.timezone,
        start=start,
        end=end,
        start_utc=meeting.start_utc,
        end_utc=meeting.end_utc,
        sequence=meeting.sequence,
        description=meeting.description,
        join_url=meeting.join_url,
        created_at=meeting.created_at,
        updated_at=meeting.updated_at,
        url=meeting_page_url(base_url, info.slug, meeting.uid),
        feed_url=url,
        webcal_url=webcal(url),
    )
