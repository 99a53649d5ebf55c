"""The feed service: each feed's bytes, gzip, ETag and Last-Modified, cached per selection and
data revision so that polling costs one revision check; single flight after a write."""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import ne
from typing import Any, cast

from sqlalchemy import select as sql_select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import current_revision
from app.core.revision_watch import WatchedRevision
from app.feeds import event_store
from app.feeds.event_cache import EventCache, Stamp, group_stamp
from app.feeds.last_render import Assembly, LastRenders, apply_changes
from app.feeds.rendered import RenderedFeed
from app.feeds.selection import FeedSelection, Row, cutoff_date, select_feed
from app.i18n.languages import DEFAULT
from app.ical.calendar import render_calendar
from app.ical.wording import FeedContext
from app.models import Meeting
from app.readmodel.groups import GroupInfo, group_index, group_versions

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class FeedService:
    """One per process: rendered feeds keyed by selection and revision, and rendered events.

    Bounded twice: at most `max_feeds` feeds and `max_bytes` of bodies (the newest feed always
    stays); a feed of an older revision is dropped as soon as a newer revision is rendered.
    """

    max_feeds: int = 512
    max_bytes: int = 256 * 1024 * 1024
    revisions: WatchedRevision | None = None
    events: EventCache = field(default_factory=EventCache)
    store: event_store.EventStore | None = None
    renders: int = 0
    # Renders that read only the meetings written since the feed's last render.
    partial_renders: int = 0
    hits: int = 0
    _feeds: OrderedDict[tuple[object, ...], RenderedFeed] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _inflight: dict[tuple[object, ...], threading.Lock] = field(default_factory=dict)
    _known: set[FeedSelection] = field(default_factory=set)
    # (data revision checked at, each group's (id, version), the index)
    _groups: tuple[int, list[tuple[int, int]], dict[int, GroupInfo]] | None = None
    _groups_lock: threading.Lock = field(default_factory=threading.Lock)
    # Each feed's last render, for its next re-render; bounded by the rows held.
    last: LastRenders = field(default_factory=LastRenders)

    def feed(
        self,
        session: Session,
        selection: FeedSelection,
        ctx: FeedContext,
        retention_days: int,
        today: dt.date | None = None,
    ) -> RenderedFeed:
        ctx = ctx.speaking(selection.lang)
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
                # No poll at this revision can be answered from an older one: let those go
                # first, so that a large feed's old and new bodies are not held at once.
                self._forget_before(revision)
                rendered = self._render(session, selection, ctx, cutoff, revision)
                self._store(key, rendered)
                return rendered
        finally:
            with self._lock:
                if self._inflight.get(key) is flight:
                    del self._inflight[key]

    def cached(
        self,
        selection: FeedSelection,
        ctx: FeedContext,
        cutoff: dt.date,
        revision: int,
    ) -> RenderedFeed | None:
        """The feed rendered at `revision`, if this process has it: the whole cost of a poll.

        Only selections that were validated (groups and meeting exist) are ever stored, and the
        key holds the revision, so a hit needs no further check. The words are in the
        selection's language, whatever `ctx` speaks (the edge keeps a context per language, so
        a poll makes none)."""
        key = (selection, revision, cutoff, ctx.speaking(selection.lang))
        with self._lock:
            cached = self._feeds.get(key)
            if cached is not None:
                self._feeds.move_to_end(key)
                self.hits += 1
        return cached

    def groups(self, session: Session) -> dict[int, GroupInfo]:
        """Every group with parent, leaders and working groups, loaded again only when a group
        changed (every change of a group raises its version; groups are never deleted), checked
        once per data revision (single flight) on the caller's own connection: a request never
        asks the pool for a second one. The objects are loaded in a session of their own on
        that connection and detached, so no caller's commit can expire them. A write session
        sees its own uncommitted changes: it gets an index of its own."""
        if self.revisions is None or session.info.get("writes"):
            return group_index(session)
        # The store's own revision: a watcher's may lag another process's write a moment.
        revision = current_revision(session)
        cached = self._groups
        if cached is not None and cached[0] == revision:
            return cached[2]
        with self._groups_lock:
            cached = self._groups
            if cached is not None and cached[0] == revision:
                return cached[2]
            versions = group_versions(session)
            if cached is not None and cached[1] == versions:
                index = cached[2]
            else:
                with Session(bind=session.connection()) as own:
                    index = group_index(own)
            self._groups = (revision, versions, index)
        return index

    @property
    def entries(self) -> int:
        """How many rendered feeds this process holds."""
        return len(self._feeds)

    def known(self, selection: FeedSelection) -> bool:
        """Whether the routes validated this selection before. Groups are never deleted, so
        a group or global feed stays valid; a meeting's may not (purge), and is never known."""
        return selection.uid is None and selection in self._known

    def refresh(
        self, engine: Engine, selection: FeedSelection, ctx: FeedContext, retention: int
    ) -> RenderedFeed:
        """Render a known feed at the current revision (single flight, as `feed`)."""
        with Session(engine) as session:
            return self.feed(session, selection, ctx, retention)

    def _forget_before(self, revision: int) -> None:
        with self._lock:
            self._drop_before(revision)

    def _drop_before(self, revision: int) -> None:
        """Drop the feeds of older revisions (the caller holds the lock)."""
        for old in [k for k in self._feeds if isinstance(k[1], int) and k[1] < revision]:
            self._bytes -= self._feeds.pop(old).size

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
            self._drop_before(revision)
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
        ctx: FeedContext,
        cutoff: dt.date,
        revision: int,
    ) -> RenderedFeed:
        index = self.groups(session)
        groups = {gid: group_stamp(info) for gid, info in index.items()}
        key = (selection, cutoff, ctx)
        last = self.last.get(key)
        # After a write, most of the feed is its last render's: read only the meetings written
        # since, when the groups are as they were; else the rows, compared with the last's in C.
        since = last.revision if last is not None and last.groups == groups else None
        found = select_feed(session, index, selection, ctx, cutoff, since)
        placed = None
        if last is not None and found.changes is not None:
            placed = apply_changes(last, found.changes)
        if placed is None and found.changes is not None:
            found = select_feed(session, index, selection, ctx, cutoff)
        rows: list[Row]
        parts: list[bytes | None]
        changed: Iterable[int]
        if placed is not None:
            rows, parts, changed = placed
            self.partial_renders += 1
        elif last is not None and last.groups == groups and len(last.rows) == len(found.rows):
            rows, parts = found.rows, list(last.parts)
            changed = compress(range(len(rows)), map(ne, rows, last.rows))
        else:
            rows, parts, changed = found.rows, [None] * len(found.rows), range(len(found.rows))
        self._fill(session, rows, parts, changed, index, groups, ctx, selection.alarm)
        done = cast(list[bytes], parts)
        self.last.put(key, Assembly(rows, done, groups, revision))
        body = render_calendar(found.header, ctx, found.zones, done)
        group_ids = {row[1] for row in rows} | {
            gid for gid, info in index.items() if info.slug in selection.groups
        }
        stamps = [index[g].group.updated_at for g in group_ids]
        if found.last_modified is not None:
            stamps.append(found.last_modified)
        # The ETag from versions, not a hash of the body: the same in every process (marshal's
        # version 2 has no back-references, so the same rows always give the same bytes).
        versions: tuple[object, ...] = (
            selection,
            ctx,
            cutoff,
            found.header,
            hashlib.sha256(marshal.dumps(rows, 2)).hexdigest(),
            sorted((g, groups[g]) for g in group_ids),
        )
        # Each language its own tag; English's as before languages (out of repr, see
        # FeedSelection).
        if selection.lang != DEFAULT:
            versions += (selection.lang,)
        etag = event_store.feed_tag(versions)
        return RenderedFeed(
            body=body,
            etag=etag,
            last_modified=max(stamps, default=EPOCH),
            filename=found.filename,
        )

    def _fill(
        self,
        session: Session,
        rows: Sequence[Row],
        parts: list[bytes | None],
        changed: Iterable[int],
        index: dict[int, GroupInfo],
        groups: dict[int, tuple[int, int]],
        ctx: FeedContext,
        alarm: int | None,
    ) -> None:
        """Put each changed place's event text in `parts`: held here, else stored by another
        process (or an earlier run), else rendered now and stored."""
        held = self.events.texts(ctx, alarm).get
        absent: dict[int, Stamp] = {}
        places: list[int] = []
        for position in changed:
            meeting_id, group_id, revision, sequence = rows[position]
            stamp = (revision, sequence, groups[group_id])
            entry = held(meeting_id)
            if entry is not None and entry[0] == stamp:
                parts[position] = entry[1]
            else:
                absent[meeting_id] = stamp
                places.append(position)
        if absent:
            fresh = self.store.lookup(session, absent, ctx, alarm) if self.store else []
            texts = {meeting_id: text for meeting_id, _, text in fresh}
            missing = absent.keys() - texts.keys()
            rendered = self._render_events(session, missing, index, ctx, alarm)
            texts.update((meeting_id, text) for meeting_id, _, text in rendered)
            self.events.put(ctx, alarm, fresh + rendered)
            if self.store is not None:
                self.store.save(session, rendered, ctx, alarm)
            for position in places:
                parts[position] = texts[rows[position][0]]
        self.events.count_hits(len(parts) - len(absent))

    def _render_events(
        self,
        session: Session,
        ids: Collection[int],
        index: dict[int, GroupInfo],
        ctx: FeedContext,
        alarm: int | None,
    ) -> list[tuple[int, Stamp, bytes]]:
        """Render the events of these meetings, loaded whole (as plain rows, a tenth of the
        cost of ORM objects: rendering only reads them)."""
        table = cast(Any, Meeting).__table__
        wanted = sorted(ids)
        rendered = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for row in session.execute(sql_select(table).where(table.c.id.in_(chunk))):
                meeting = cast(Meeting, row)
                stamp, text = self.events.render(meeting, index[meeting.group_id], ctx, alarm)
                rendered.append((row.id, stamp, text))
        return rendered
