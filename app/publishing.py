"""Feeds as served: which meetings a feed holds, its bytes, gzip, ETag and Last-Modified,
cached per feed and data revision so that polling costs one revision check."""

from __future__ import annotations

import datetime as dt
import gzip
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from functools import cached_property
from typing import Any, cast

from sqlalchemy import select as sql_select
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import crud, event_store, feeds
from app.db import REVISION_SQL, current_revision
from app.models import Meeting

ALL_CALENDAR_NAME = "U4SSC meetings"


@dataclass(frozen=True)
class FeedSelection:
    """Which feed: every meeting, some groups (with their working groups), or one meeting."""

    groups: tuple[str, ...] = ()
    uid: str | None = None
    alarm: int | None = None
    hide_cancelled: bool = False


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str
    last_modified: dt.datetime
    filename: str
    # Encoded HTTP header lists per answer, filled by the HTTP layer: a poll builds none.
    answers: dict[tuple[object, ...], list[tuple[bytes, bytes]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def gzip_etag(self) -> str:
        """The strong ETag of the gzip-coded answer: a strong validator differs per content
        coding (RFC 9110 8.8.3), so the same bytes compressed carry a tag of their own."""
        return self.etag[:-1] + '-gzip"'

    @property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    @cached_property
    def gzipped(self) -> bytes:
        """Compressed on first use: a write re-renders without paying for it, and a feed no
        client asks gzip for never pays at all. Two racing threads compute the same bytes."""
        return gzip.compress(self.body, compresslevel=_gzip_level(len(self.body)), mtime=0)

    @property
    def size(self) -> int:
        # Counted as if compressed too (about a fifth of the body), before it is.
        return len(self.body) + len(self.body) // 5


class RevisionWatcher:
    """The data revision as cheaply as the store allows.

    On an SQLite file each thread keeps one read connection and asks `PRAGMA data_version`,
    which changes only when another connection (of any process) commits; the revision row is
    read again only then. Elsewhere (PostgreSQL, in-memory SQLite) it is one small query.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        plain_file = (
            engine.dialect.name == "sqlite"
            and bool(database)
            and database != ":memory:"
            and not str(database).startswith("file:")
            and not engine.url.query
        )
        self._path = str(database) if plain_file else None
        self._local = threading.local()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def cheap(self) -> bool:
        """True when a check costs no round trip, so it may run on the event loop."""
        return self._path is not None

    def current(self) -> int:
        if self._path is None:
            with self._engine.connect() as shared:
                return int(shared.execute(text(REVISION_SQL)).scalar() or 0)
        state: list[int] | None = getattr(self._local, "state", None)
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or state is None:
            connection = sqlite3.connect(
                self._path, timeout=30, isolation_level=None, check_same_thread=False
            )
            state = [-1, 0]
            self._local.connection, self._local.state = connection, state
        # Read data_version first: a commit between the two reads is seen again next time.
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != state[0]:
            row = connection.execute(REVISION_SQL).fetchone()
            state[0], state[1] = version, int(row[0] or 0) if row else 0
        return state[1]


EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def cutoff_date(retention_days: int, today: dt.date | None = None) -> dt.date:
    """The first Geneva date whose cancelled meetings still show in feeds."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=retention_days)


@dataclass
class FeedService:
    """One per process: rendered feeds keyed by selection and revision, and rendered events.

    Bounded twice: at most `max_feeds` feeds and `max_bytes` of bodies (the newest feed always
    stays); a feed of an older revision is dropped as soon as a newer revision is rendered.
    """

    max_feeds: int = 512
    max_bytes: int = 256 * 1024 * 1024
    revisions: Any = None  # RevisionWatcher or app.revision_watch.WatchedRevision
    events: feeds.EventCache = field(default_factory=feeds.EventCache)
    store: event_store.EventStore | None = None
    renders: int = 0
    hits: int = 0
    _feeds: OrderedDict[tuple[object, ...], RenderedFeed] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _inflight: dict[tuple[object, ...], threading.Lock] = field(default_factory=dict)
    _known: set[FeedSelection] = field(default_factory=set)
    _groups: tuple[int, dict[int, crud.GroupInfo]] | None = None
    _groups_lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(
        self,
        session: Session,
        selection: FeedSelection,
        ctx: feeds.FeedContext,
        retention_days: int,
        today: dt.date | None = None,
    ) -> RenderedFeed:
        cutoff = cutoff_date(retention_days, today)
        revision = current_revision(session)
        cached = self.cached(selection, ctx, cutoff, revision)
        if cached is not None:
            return cached
        # Single flight: after a write, many pollers miss at once; one renders, the rest wait
        # for its result instead of rendering the same feed side by side.
        key = (selection, revision, cutoff, ctx)
        with self._lock:
            flight = self._inflight.setdefault(key, threading.Lock())
        try:
            with flight:
                cached = self.cached(selection, ctx, cutoff, revision)
                if cached is not None:
                    return cached
                rendered = self._render(session, selection, ctx, cutoff)
                self._store(key, rendered)
                return rendered
        finally:
            with self._lock:
                if self._inflight.get(key) is flight:
                    del self._inflight[key]

    def cached(
        self,
        selection: FeedSelection,
        ctx: feeds.FeedContext,
        cutoff: dt.date,
        revision: int,
    ) -> RenderedFeed | None:
        """The feed rendered at `revision`, if this process has it: the whole cost of a poll.

        Only selections that were validated (groups and meeting exist) are ever stored, and the
        key holds the revision, so a hit needs no further check."""
        key = (selection, revision, cutoff, ctx)
        with self._lock:
            cached = self._feeds.get(key)
            if cached is not None:
                self._feeds.move_to_end(key)
                self.hits += 1
        return cached

    def groups(self, session: Session) -> dict[int, crud.GroupInfo]:
        """Every group with parent, leaders and working groups, loaded once per data revision
        (groups change only through writes; single flight) on the caller's own connection:
        a request never asks the pool for a second one. The objects are loaded in a session
        of their own on that connection and detached, so no caller's commit can expire them.
        A write session sees its own uncommitted changes: it gets an index of its own."""
        if self.revisions is None or session.info.get("writes"):
            return crud.group_index(session)
        # The store's own revision: a watcher's may lag another process's write a moment.
        revision = current_revision(session)
        cached = self._groups
        if cached is not None and cached[0] == revision:
            return cached[1]
        with self._groups_lock:
            cached = self._groups
            if cached is not None and cached[0] == revision:
                return cached[1]
            with Session(bind=session.connection()) as own:
                index = crud.group_index(own)
            self._groups = (revision, index)
        return index

    def known(self, selection: FeedSelection) -> bool:
        """Whether the routes validated this selection before. Groups are never deleted, so
        a group or global feed stays valid; a meeting's may not (purge), and is never known."""
        return selection.uid is None and selection in self._known

    def refresh(
        self, engine: Engine, selection: FeedSelection, ctx: feeds.FeedContext, retention: int
    ) -> RenderedFeed:
        """Render a known feed at the current revision (single flight, as `feed`)."""
        with Session(engine) as session:
            return self.feed(session, selection, ctx, retention)

    def _store(self, key: tuple[object, ...], rendered: RenderedFeed) -> None:
        revision = key[1]
        assert isinstance(revision, int)
        selection = key[0]
        assert isinstance(selection, FeedSelection)
        with self._lock:
            if len(self._known) >= 10_000:
                self._known.clear()
            self._known.add(selection)
            self.renders += 1
            for old in [k for k in self._feeds if isinstance(k[1], int) and k[1] < revision]:
                self._bytes -= self._feeds.pop(old).size
            previous = self._feeds.pop(key, None)
            if previous is not None:
                self._bytes -= previous.size
            self._feeds[key] = rendered
            self._bytes += rendered.size
            while len(self._feeds) > 1 and (
                len(self._feeds) > self.max_feeds or self._bytes > self.max_bytes
            ):
                _, evicted = self._feeds.popitem(last=False)
                self._bytes -= evicted.size

    def _render(
        self,
        session: Session,
        selection: FeedSelection,
        ctx: feeds.FeedContext,
        cutoff: dt.date,
    ) -> RenderedFeed:
        index = self.groups(session)
        rows, header, filename = _select(session, index, selection, ctx, cutoff)
        alarm = selection.alarm
        texts = [self.events.peek(row, index[row.group_id], ctx, alarm) for row in rows]
        if self.store is not None and None in texts:
            # Texts another process (or an earlier run) rendered: no event is rendered again.
            absent = [row for row, text in zip(rows, texts, strict=True) if text is None]
            stored = self.store.lookup(session, absent, index, ctx, alarm)
            for row in absent:
                if row.id in stored:
                    self.events.put(row, index[row.group_id], ctx, alarm, stored[row.id])
            texts = [
                stored.get(row.id) if t is None else t for row, t in zip(rows, texts, strict=True)
            ]
        # Whole meetings are loaded only for the events not cached at their version.
        missing = [row.id for row, text in zip(rows, texts, strict=True) if text is None]
        # Plain rows, not ORM objects: rendering only reads them, and rows cost a tenth.
        loaded: dict[int | None, Meeting] = {}
        table = cast(Any, Meeting).__table__
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for meeting in session.execute(sql_select(table).where(table.c.id.in_(chunk))):
                loaded[meeting.id] = cast(Meeting, meeting)
        events = [
            text
            if text is not None
            else self.events.get(loaded[row.id], index[row.group_id], ctx, alarm)
            for row, text in zip(rows, texts, strict=True)
        ]
        if self.store is not None and missing:
            fresh = [(row, e) for row, t, e in zip(rows, texts, events, strict=True) if t is None]
            self.store.save(session, fresh, index, ctx, alarm)
        body = feeds.render_calendar(header, ctx, feeds.zones_needed(cast(Any, rows)), events)
        group_ids = {row.group_id for row in rows} | {
            gid for gid, info in index.items() if info.slug in selection.groups
        }
        stamps = [row.updated_at for row in rows] + [index[g].group.updated_at for g in group_ids]
        # The ETag from versions, not a hash of the body: the same in every process.
        etag = event_store.feed_tag(
            (
                selection,
                ctx,
                cutoff,
                header,
                [(row.id, row.version, row.sequence) for row in rows],
                sorted((g, event_store.stamp(_NO_MEETING, index[g])) for g in group_ids),
            )
        )
        return RenderedFeed(
            body=body,
            etag=etag,
            last_modified=max(stamps, default=EPOCH),
            filename=filename,
        )


# What a feed needs of each meeting to find its cached event text, order it and date it.
_LIGHT: tuple[Any, ...] = (
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


class _NoMeeting:
    """Stands for a meeting in event_store.stamp when only the group's versions count."""

    version = 0
    sequence = 0


_NO_MEETING = _NoMeeting()


def _gzip_level(size: int) -> int:
    """Best compression for feeds as small as most are; a faster level keeps a multi-megabyte
    feed's re-render short (the ratio of level 6 is within a few percent of 9 on .ics text)."""
    return 9 if size < 1_000_000 else 6


def _select(
    session: Session,
    index: dict[int, crud.GroupInfo],
    selection: FeedSelection,
    ctx: feeds.FeedContext,
    cutoff: dt.date,
) -> tuple[Sequence[Any], feeds.FeedHeader, str]:
    base = ctx.base_url
    if selection.uid is not None:
        meeting = crud.get_meeting(session, selection.uid)
        info = index[meeting.group_id]
        header = feeds.FeedHeader(
            name=feeds.meeting_summary(meeting, info),
            description=f"One U4SSC e-meeting of {info.label}.",
            source_url=f"{base}/meetings/{meeting.uid}.ics",
            page_url=feeds.meeting_page_url(base, info.slug, meeting.uid),
        )
        return [meeting], header, f"{meeting.uid}.ics"
    query = crud.MeetingQuery(
        group_ids=crud.group_ids_covering(session, selection.groups) if selection.groups else None,
        statuses=("confirmed", "tentative") if selection.hide_cancelled else (),
        visible_cancelled_from=cutoff,
    )
    statement = (
        sql_select(*_LIGHT).where(*crud._meeting_filter(query)).order_by(*crud.MEETING_ORDER)
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
        name = "U4SSC: " + " + ".join(calendar_label(info) for info in chosen)
        description = (
            "U4SSC e-meetings of " + "; ".join(info.group.name for info in chosen) + ". "
            "Times are Geneva time; your calendar shows them in yours."
        )
        page = f"{base}/groups/{chosen[0].slug}" if len(chosen) == 1 else f"{base}/"
        filename = "u4ssc-" + "-".join(info.slug for info in chosen)[:150] + ".ics"
    header = feeds.FeedHeader(
        name=name,
        description=description,
        source_url=feed_url(base, selection.groups),
        page_url=page,
    )
    return meetings, header, filename


def calendar_label(info: crud.GroupInfo) -> str:
    """ "Autonomous Cities (WG2)" for a working group, the name for a thematic group."""
    if info.group.code:
        return f"{info.group.name} ({info.group.code})"
    return info.group.short_name or info.group.name


def feed_url(base: str, groups: tuple[str, ...] = ()) -> str:
    if len(groups) == 1:
        return f"{base}/groups/{groups[0]}/calendar.ics"
    query = "&".join(f"group={slug}" for slug in groups)
    return f"{base}/calendar.ics" + (f"?{query}" if query else "")


def webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]
