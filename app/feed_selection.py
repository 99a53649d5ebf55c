"""Which meetings a feed holds: the selection a URL names, its meetings (light rows, in feed
order), the feed's name, links and file name, and how long cancelled meetings stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session

from app import crud, feeds, links, vevent
from app.models import Meeting, MeetingStatus
from app.readmodel import GroupInfo

ALL_CALENDAR_NAME = "U4SSC meetings"
# What a feed without cancelled meetings shows: every status but cancelled.
SHOWN_STATUSES = tuple(s.value for s in MeetingStatus if s is not MeetingStatus.cancelled)


@dataclass(frozen=True)
class FeedSelection:
    """Which feed: every meeting, some groups (with their working groups), or one meeting."""

    groups: tuple[str, ...] = ()
    uid: str | None = None
    alarm: int | None = None
    hide_cancelled: bool = False


def cutoff_date(retention_days: int, today: dt.date | None = None) -> dt.date:
    """The first Geneva date whose cancelled meetings still show in feeds."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=retention_days)


# What a feed needs of each meeting to find its cached event text, order it and date it.
LIGHT_COLUMNS: tuple[Any, ...] = (
    Meeting.id,
    Meeting.uid,
    Meeting.group_id,
    Meeting.version,
    Meeting.sequence,
    Meeting.updated_at,
    Meeting.date,
    Meeting.start_time,
    Meeting.timezone,
)


def select_feed(
    session: Session,
    index: dict[int, GroupInfo],
    selection: FeedSelection,
    ctx: vevent.FeedContext,
    cutoff: dt.date,
) -> tuple[Sequence[Any], feeds.FeedHeader, str]:
    base = ctx.base_url
    if selection.uid is not None:
        meeting = crud.get_meeting(session, selection.uid)
        info = index[meeting.group_id]
        header = feeds.FeedHeader(
            name=vevent.meeting_summary(meeting, info),
            description=f"One U4SSC e-meeting of {info.label}.",
            source_url=f"{base}/meetings/{meeting.uid}.ics",
            page_url=links.meeting_page_url(base, info.slug, meeting.uid),
        )
        return [meeting], header, f"{meeting.uid}.ics"
    query = crud.MeetingQuery(
        group_ids=crud.group_ids_covering(session, selection.groups) if selection.groups else None,
        statuses=SHOWN_STATUSES if selection.hide_cancelled else (),
        visible_cancelled_from=cutoff,
    )
    statement = (
        sql_select(*LIGHT_COLUMNS).where(*crud.meeting_filter(query)).order_by(*crud.MEETING_ORDER)
    )
    meetings = session.execute(statement).all()
    by_slug = {info.slug: info for info in index.values()}
    chosen = [by_slug[slug] for slug in dict.fromkeys(selection.groups)]
    if not chosen:
        name = ALL_CALENDAR_NAME
        description = (
            "Every e-meeting of the U4SSC (United for Smart Sustainable Cities) thematic and "
            "working groups. Times are Geneva time; your calendar shows them in yours."
        )
        page, filename = f"{base}/", "u4ssc.ics"
    else:
        name = "U4SSC: " + " + ".join(links.calendar_label(info) for info in chosen)
        description = (
            "U4SSC e-meetings of " + "; ".join(info.group.name for info in chosen) + ". "
            "Times are Geneva time; your calendar shows them in yours."
        )
        page = f"{base}/groups/{chosen[0].slug}" if len(chosen) == 1 else f"{base}/"
        filename = "u4ssc-" + "-".join(info.slug for info in chosen)[:150] + ".ics"
    header = feeds.FeedHeader(
        name=name,
        description=description,
        source_url=links.feed_url(base, selection.groups),
        page_url=page,
    )
    return meetings, header, filename
