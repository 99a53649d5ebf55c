"""Rows as the API shows them: the public models, with absolute links."""

from __future__ import annotations

from app import zones
from app.feeds import default_title, meeting_page_url
from app.models import GroupPublic, Meeting, MeetingPublic
from app.publishing import feed_url, webcal
from app.readmodel import GroupInfo


def group_public(info: GroupInfo, base_url: str) -> GroupPublic:
    g = info.group
    url = feed_url(base_url, (g.slug,))
    return GroupPublic(
        slug=g.slug,
        kind=g.kind,
        code=g.code,
        name=g.name,
        short_name=g.short_name,
        parent=info.parent.slug if info.parent else None,
        status=g.status,
        status_note=g.status_note,
        leaders=list(info.leaders),
        secretariat=g.secretariat,
        timeline=g.timeline,
        expected_publication=g.expected_publication,
        scope=g.scope,
        notes=list(g.notes),
        publications=list(g.publications),
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
