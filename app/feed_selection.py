"""Which meetings a feed holds: the selection a URL names, its meetings (four integers each, in
feed order), the zones and change time they add up to, the feed's name, links and file name,
and how long cancelled meetings stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session

from app import crud, feeds, links, vevent
from app.db import driver_rows
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


@dataclass(frozen=True)
class FeedRows:
    """A feed's meetings as (id, group id, version, sequence), in feed order: what finds each
    cached event text; and what the header needs of them, aggregated by the store."""

    rows: Sequence[tuple[int, int, int, int]]
    zones: dict[str, int]  # as feeds.zones_needed
    last_modified: dt.datetime | None
    header: feeds.FeedHeader
    filename: str


_TABLE: Any = Meeting.__table__  # type: ignore[attr-defined]
# The table's own columns: a Core statement, whose rows are built in C, not by the ORM.
_ROW = (_TABLE.c.id, _TABLE.c.group_id, _TABLE.c.version, _TABLE.c.sequence)


def select_feed(
    session: Session,
    index: dict[int, GroupInfo],
    selection: FeedSelection,
    ctx: vevent.FeedContext,
    cutoff: dt.date,
) -> FeedRows:
    base = ctx.base_url
    if selection.uid is not None:
        meeting = crud.get_meeting(session, selection.uid)
        assert meeting.id is not None
        info = index[meeting.group_id]
        header = feeds.FeedHeader(
            name=vevent.meeting_summary(meeting, info),
            description=f"One U4SSC e-meeting of {info.label}.",
            source_url=f"{base}/meetings/{meeting.uid}.ics",
            page_url=links.meeting_page_url(base, info.slug, meeting.uid),
        )
        row = (meeting.id, meeting.group_id, meeting.version, meeting.sequence)
        needed = feeds.zones_needed([meeting])
        return FeedRows([row], needed, meeting.updated_at, header, f"{meeting.uid}.ics")
    query = crud.MeetingQuery(
        group_ids=crud.group_ids_covering(session, selection.groups) if selection.groups else None,
        statuses=SHOWN_STATUSES if selection.hide_cancelled else (),
        visible_cancelled_from=cutoff,
    )
    where = crud.meeting_filter(query)
    # Four integers per meeting, no conversion: a feed of 100,000 meetings reads them quickly.
    connection = session.connection()
    # Plain tuples: a re-render compares them with the last render's in C (app.publishing).
    statement = sql_select(*_ROW).where(*where).order_by(*crud.MEETING_ORDER)
    rows: list[tuple[int, int, int, int]] = list(driver_rows(connection, statement))
    timed = _TABLE.c.start_time.is_not(None)
    summary = (
        sql_select(_TABLE.c.timezone, timed, func.min(_TABLE.c.date), func.max(_TABLE.c.updated_at))
        .where(*where)
        .group_by(_TABLE.c.timezone, timed)
    )
    zones: dict[str, int] = {}
    last_modified: dt.datetime | None = None
    for zone, is_timed, first_date, latest in connection.execute(summary):
        if is_timed:
            zones[zone] = first_date.year
        last_modified = latest if last_modified is None else max(last_modified, latest)
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
    return FeedRows(rows, zones, last_modified, header, filename)
