"""Feeds as served: which meetings a feed holds, its bytes, gzip, ETag and Last-Modified,
cached per feed and data revision so that polling costs one revision check."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from email.utils import format_datetime

from sqlmodel import Session

from app import crud, feeds
from app.db import current_revision
from app.models import Meeting


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
    gzipped: bytes
    etag: str
    last_modified: dt.datetime
    filename: str

    @property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)


EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class FeedService:
    """One per process: rendered feeds keyed by selection and revision, and rendered events."""

    max_feeds: int = 512
    events: feeds.EventCache = field(default_factory=feeds.EventCache)
    renders: int = 0
    hits: int = 0
    _feeds: OrderedDict[tuple[object, ...], RenderedFeed] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(
        self,
        session: Session,
        selection: FeedSelection,
        ctx: feeds.FeedContext,
        retention_days: int,
        today: dt.date | None = None,
    ) -> RenderedFeed:
        today = today or dt.datetime.now(dt.UTC).date()
        cutoff = today - dt.timedelta(days=retention_days)
        key = (selection, current_revision(session), cutoff, ctx)
        with self._lock:
            cached = self._feeds.get(key)
            if cached is not None:
                self._feeds.move_to_end(key)
                self.hits += 1
                return cached
        rendered = self._render(session, selection, ctx, cutoff)
        with self._lock:
            self.renders += 1
            self._feeds[key] = rendered
            while len(self._feeds) > self.max_feeds:
                self._feeds.popitem(last=False)
        return rendered

    def _render(
        self,
        session: Session,
        selection: FeedSelection,
        ctx: feeds.FeedContext,
        cutoff: dt.date,
    ) -> RenderedFeed:
        index = crud.group_index(session)
        meetings, header, filename = _select(session, index, selection, ctx, cutoff)
        events = [self.events.get(m, index[m.group_id], ctx, selection.alarm) for m in meetings]
        body = feeds.render_calendar(header, ctx, feeds.zones_needed(meetings), events)
        group_ids = {m.group_id for m in meetings} | {
            gid for gid, info in index.items() if info.slug in selection.groups
        }
        stamps = [m.updated_at for m in meetings] + [index[g].group.updated_at for g in group_ids]
        return RenderedFeed(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
            last_modified=max(stamps, default=EPOCH),
            filename=filename,
        )


def _select(
    session: Session,
    index: dict[int, crud.GroupInfo],
    selection: FeedSelection,
    ctx: feeds.FeedContext,
    cutoff: dt.date,
) -> tuple[list[Meeting], feeds.FeedHeader, str]:
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
    meetings, _ = crud.list_meetings(session, query)
    by_slug = {info.slug: info for info in index.values()}
    chosen = [by_slug[slug] for slug in dict.fromkeys(selection.groups)]
    if not chosen:
        name = "U4SSC meetings"
        description = (
            "Every e-meeting of the U4SSC (United for Smart Sustainable Cities) thematic and "
            "working groups. Times are Geneva time; your calendar shows them in yours."
        )
        page, filename = f"{base}/", "u4ssc.ics"
    else:
        name = "U4SSC: " + " + ".join(_calendar_label(info) for info in chosen)
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


def _calendar_label(info: crud.GroupInfo) -> str:
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
