"""Rendered VEVENT bytes kept per rendering context and meeting, each with the stamp (the
meeting's revision and sequence, group and parent versions) it was rendered at, so that a change
renders one event and every feed holding the others reuses their bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from app.ical.event import render_event
from app.ical.wording import FeedContext
from app.models import Meeting
from app.readmodel.groups import GroupInfo

# (meeting revision, sequence, (group version, parent version)): what an event's text depends
# on besides the rendering context. The revision of the meeting's last write, not its version:
# a purged meeting's id may be given to a new one (SQLite), whose revision is always higher.
Stamp = tuple[int, int, tuple[int, int]]
Texts = dict[int, tuple[Stamp, bytes]]


def group_stamp(info: GroupInfo) -> tuple[int, int]:
    return info.group.version, info.parent.version if info.parent is not None else 0


class EventCache:
    """Event bytes by context (FeedContext, alarm), then by meeting id. Bounded by the bytes
    held (each `alarm=` value is a context of its own and renders every event anew, so a client
    could otherwise fill memory): the least recently used context goes first, and a context
    that alone outgrows the bound keeps what it holds and takes no more."""

    def __init__(self, max_bytes: int = 320 * 1024 * 1024) -> None:
        self._contexts: OrderedDict[tuple[FeedContext, int | None], Texts] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        # Worker threads render and fill contexts side by side: each change of the bounds
        # holds the lock; a read of one entry is a single dictionary look-up.
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """Bytes of event text held."""
        return self._bytes

    def texts(self, ctx: FeedContext, alarm: int | None) -> Texts:
        """The texts held for this context, by meeting id (read them, don't change them)."""
        key = (ctx, alarm)
        with self._lock:
            texts = self._contexts.get(key)
            if texts is None:
                texts = self._contexts[key] = {}
            else:
                self._contexts.move_to_end(key)
        return texts

    def put(
        self, ctx: FeedContext, alarm: int | None, items: list[tuple[int, Stamp, bytes]]
    ) -> None:
        """Hold texts (meeting id, stamp, bytes) rendered here or read from the event store."""
        key = (ctx, alarm)
        with self._lock:
            texts = self._contexts.setdefault(key, {})
            self._contexts.move_to_end(key)
            for meeting_id, stamp, text in items:
                previous = texts.get(meeting_id)
                grown = len(text) - (len(previous[1]) if previous is not None else 0)
                while self._bytes + grown > self._max_bytes and len(self._contexts) > 1:
                    _, evicted = self._contexts.popitem(last=False)
                    self._bytes -= sum(len(t) for _, t in evicted.values())
                if self._bytes + grown > self._max_bytes:
                    return  # this context alone fills the bound: its feed still renders
                texts[meeting_id] = (stamp, text)
                self._bytes += grown

    def count_hits(self, count: int) -> None:
        with self._lock:
            self.hits += count

    def render(
        self, meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm: int | None
    ) -> tuple[Stamp, bytes]:
        """Render one event (counted as a miss); the caller holds it with `put`."""
        text = render_event(meeting, info, ctx, alarm).encode("utf-8")
        with self._lock:
            self.misses += 1
        return (meeting.revision, meeting.sequence, group_stamp(info)), text

    def clear(self) -> None:
        with self._lock:
            self._contexts.clear()
            self._bytes = 0
