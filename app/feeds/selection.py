"""Which meetings a feed holds: the selection a URL names, its meetings (four integers each, in
feed order) or only those written since a revision with their places, the zones and change time
they add up to, the feed's name, links and file name, and how long cancelled meetings stay."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, or_, true
from sqlalchemy import select as sql_select
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import Session

from app import crud
from app.core.db import driver_rows
from app.i18n.catalogs import N_, translator
from app.i18n.languages import DEFAULT
from app.ical import wording
from app.ical.header import FeedHeader, meeting_header, zones_needed
from app.models import Meeting, MeetingStatus
from app.readmodel import links
from app.readmodel.groups import GroupInfo, name_in

ALL_CALENDAR_NAME = N_("U4SSC meetings")
# What a feed without cancelled meetings shows: every status but cancelled.
SHOWN_STATUSES = tuple(s.value for s in MeetingStatus if s is not MeetingStatus.cancelled)


@dataclass(frozen=True)
class FeedSelection:
    """Which feed: every meeting, some groups (with their working groups), or one meeting; in
    which language its words are (`lang`, one of app.i18n.languages.LANGUAGES)."""

    groups: tuple[str, ...] = ()
    uid: str | None = None
    alarm: int | None = None
    hide_cancelled: bool = False
    # Out of repr, as in FeedContext: English feeds keep the ETags they had before languages.
    lang: str = dataclasses.field(default=DEFAULT, repr=False)


def cutoff_date(retention_days: int, today: dt.date | None = None) -> dt.date:
    """The first Geneva date whose cancelled meetings still show in feeds."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=retention_days)


Row = tuple[int, int, int, int]


@dataclass(frozen=True)
class FeedChanges:
    """A feed against its render at an earlier revision: how many meetings it holds now, and
    each meeting written since, as (id, its row if the feed holds it, its place in feed order),
    all read in one statement (one snapshot, on PostgreSQL too). A meeting removed from the
    store since is in neither: the count tells."""

    total: int
    written: list[tuple[int, Row | None, int | None]]


@dataclass(frozen=True)
class FeedRows:
    """A feed's meetings as (id, group id, revision, sequence), in feed order, or what changed
    since a revision (`changes`, then `rows` is empty): what finds each cached event text; and
    what the header needs of them, aggregated by the store."""

    rows: list[Row]
    zones: dict[str, int]  # as zones_needed
    last_modified: dt.datetime | None
    header: FeedHeader
    filename: str
    changes: FeedChanges | None = None


_TABLE: Any = Meeting.__table__  # type: ignore[attr-defined]
# The table's own columns: a Core statement, whose rows are built in C, not by the ORM.
_ROW = (_TABLE.c.id, _TABLE.c.group_id, _TABLE.c.revision, _TABLE.c.sequence)
# More meetings written than this since a feed's last render: the feed is read whole (each
# written meeting's place costs a count of the feed's meetings before it).
MAX_WRITTEN = 64


def select_feed(
    session: Session,
    index: dict[int, GroupInfo],
    selection: FeedSelection,
    ctx: wording.FeedContext,
    cutoff: dt.date,
    since: int | None = None,
) -> FeedRows:
    """The feed's rows, or with `since` (the revision of its last render) what changed since,
    when few meetings were written (else None for `changes` and the rows read whole)."""
    base = ctx.base_url
    if selection.uid is not None:
        meeting = crud.get_meeting(session, selection.uid)
        assert meeting.id is not None
        header = meeting_header(meeting, index[meeting.group_id], ctx)
        row = (meeting.id, meeting.group_id, meeting.revision, meeting.sequence)
        needed = zones_needed([meeting])
        return FeedRows([row], needed, meeting.updated_at, header, f"{meeting.uid}.ics")
    covering = crud.group_ids_covering(session, selection.groups) if selection.groups else None
    group_ids = tuple(sorted(covering)) if covering is not None else None
    statuses = SHOWN_STATUSES if selection.hide_cancelled else ()
    statements = _statements(group_ids, statuses, cutoff)
    connection = session.connection()
    changes = _changes(connection, statements, since) if since is not None else None
    rows: list[Row] = []
    if changes is None:
        # Four integers per meeting, as the driver's own tuples: a re-render compares them with
        # the last render's in C (app.feeds.service), and 100,000 of them read quickly.
        rows = list(driver_rows(connection, statements.rows))
    zones: dict[str, int] = {}
    last_modified: dt.datetime | None = None
    for zone, is_timed, first_date, latest in connection.execute(statements.summary):
        if is_timed:
            zones[zone] = first_date.year
        last_modified = latest if last_modified is None else max(last_modified, latest)
    by_slug = {info.slug: info for info in index.values()}
    chosen = [by_slug[slug] for slug in dict.fromkeys(selection.groups)]
    lang = ctx.lang
    _ = translator(lang)
    if not chosen:
        name = _(ALL_CALENDAR_NAME)
        description = _(
            "Every e-meeting of the U4SSC (United for Smart Sustainable Cities) thematic and "
            "working groups. Times are Geneva time; your calendar shows them in yours."
        )
        page, filename = f"{base}/", "u4ssc.ics"
    else:
        labels = " + ".join(links.calendar_label(info, lang) for info in chosen)
        name = _("U4SSC: %(groups)s") % {"groups": labels}
        names = "; ".join(name_in(info.group, lang) for info in chosen)
        description = _(
            "U4SSC e-meetings of %(groups)s. Times are Geneva time; your calendar shows them "
            "in yours."
        ) % {"groups": names}
        page = f"{base}/groups/{chosen[0].slug}" if len(chosen) == 1 else f"{base}/"
        filename = "u4ssc-" + "-".join(info.slug for info in chosen)[:150] + ".ics"
    header = FeedHeader(
        name=name,
        description=description,
        source_url=links.feed_url(base, selection.groups),
        page_url=page,
    )
    return FeedRows(rows, zones, last_modified, header, filename, changes)


@dataclass(frozen=True)
class _Statements:
    """One feed's statements, built once (the revision is a parameter, `since`): its rows in
    feed order; the zones and change time its header needs; how many meetings were written
    since; and those meetings with their places and the feed's count (FeedChanges)."""

    rows: Any
    summary: Any
    written: Any
    changes: Any


@functools.lru_cache(maxsize=256)
def _statements(
    group_ids: tuple[int, ...] | None, statuses: tuple[str, ...], cutoff: dt.date
) -> _Statements:
    query = crud.MeetingQuery(
        group_ids=set(group_ids) if group_ids is not None else None,
        statuses=statuses,
        visible_cancelled_from=cutoff,
    )
    where = crud.meeting_filter(query)
    rows = sql_select(*_ROW).where(*where).order_by(*crud.MEETING_ORDER)
    timed = _TABLE.c.start_time.is_not(None)
    summary = (
        sql_select(_TABLE.c.timezone, timed, func.min(_TABLE.c.date), func.max(_TABLE.c.updated_at))
        .where(*where)
        .group_by(_TABLE.c.timezone, timed)
    )
    since = bindparam("since", type_=Integer)
    written = _TABLE.alias("written")
    adapt = ClauseAdapter(written).traverse
    held = and_(true(), *(adapt(clause) for clause in where))
    place = (
        sql_select(func.count())
        .select_from(_TABLE)
        .where(*where, _before(_TABLE.c, written.c))
        .scalar_subquery()
    )
    feed = sql_select(func.count().label("total")).where(*where).subquery("feed")
    changes = sql_select(
        feed.c.total,
        *(written.c[column.name] for column in _ROW),
        case((held, place), else_=None),
    ).select_from(feed.outerjoin(written, written.c.revision > since))
    count = sql_select(func.count()).where(_TABLE.c.revision > since)
    return _Statements(rows, summary, count, changes)


def _changes(connection: Any, statements: _Statements, since: int) -> FeedChanges | None:
    """The meetings written after revision `since`, each with its row and place if the feed
    holds it, and the feed's count; None when more than MAX_WRITTEN were written."""
    if connection.execute(statements.written, {"since": since}).scalar_one() > MAX_WRITTEN:
        return None
    total = 0
    found: list[tuple[int, Row | None, int | None]] = []
    for feed_total, meeting_id, group_id, revision, sequence, position in driver_rows(
        connection, statements.changes, {"since": since}
    ):
        total = feed_total  # the same on every row
        if meeting_id is not None:
            row = (meeting_id, group_id, revision, sequence) if position is not None else None
            found.append((meeting_id, row, position))
    return FeedChanges(total, found)


def _before(a: Any, b: Any) -> Any:
    """Whether meeting `a` comes before meeting `b` in feed order (crud.MEETING_ORDER: Geneva
    date, all-day first, start, uid). Written as comparisons, not a row value, because start
    is NULL for all-day meetings; the first term lets the store use its feed index."""
    a_timed, b_timed = a.start_utc.is_not(None), b.start_utc.is_not(None)
    same_start = and_(
        a_timed == b_timed,
        or_(
            a.start_utc < b.start_utc,
            and_(a.start_utc.is_not_distinct_from(b.start_utc), a.uid < b.uid),
        ),
    )
    return and_(
        a.geneva_date <= b.geneva_date,
        or_(
            a.geneva_date < b.geneva_date,
            and_(a.geneva_date == b.geneva_date, or_(a_timed < b_timed, same_start)),
        ),
    )
