"""Rendered VEVENT text kept per meeting version, so that a change re-renders one event and
every feed holding the others reuses their text."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Protocol

from app.ical_event import render_event
from app.models import Meeting
from app.readmodel import GroupInfo
from app.vevent import FeedContext


class MeetingVersion(Protocol):
    """What identifies one version of a meeting's event text (a Meeting, or a row of it)."""

    @property
    def uid(self) -> str: ...
    @property
    def id(self) -> int | None: ...
    @property
    def version(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def updated_at(self) -> dt.datetime: ...


class EventCache:
    """Rendered VEVENT text per meeting version; bounded by entries and by characters held
    (each `alarm=` value renders every event anew, so a client could otherwise fill memory),
    least recently used goes first."""

    def __init__(self, max_entries: int = 200_000, max_chars: int = 128 * 1024 * 1024) -> None:
        self._entries: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._max = max_entries
        self._max_chars = max_chars
        self._chars = 0
        # Worker threads read and fill the cache together: an entry looked up by one may be
        # evicted by another before it is moved to the end, so each step holds the lock.
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        meeting: MeetingVersion, info: GroupInfo, ctx: FeedContext, alarm: int | None
    ) -> tuple[object, ...]:
        return (
            meeting.uid,
            meeting.id,
            meeting.version,
            meeting.sequence,
            meeting.updated_at,
            info.group.version,
            info.parent.version if info.parent else 0,
            ctx,
            alarm,
        )

    def peek(
        self, meeting: MeetingVersion, info: GroupInfo, ctx: FeedContext, alarm: int | None
    ) -> str | None:
        """The cached text of this meeting version, if any: lets a feed load whole meetings
        only for the events it must render."""
        key = self.key(meeting, info, ctx, alarm)
        with self._lock:
            text = self._entries.get(key)
            if text is not None:
                self.hits += 1
                self._entries.move_to_end(key)
        return text

    def get(self, meeting: Meeting, info: GroupInfo, ctx: FeedContext, alarm: int | None) -> str:
        text = self.peek(meeting, info, ctx, alarm)
        if text is not None:
            return text
        key = self.key(meeting, info, ctx, alarm)
        text = render_event(meeting, info, ctx, alarm)
        with self._lock:
            self.misses += 1
            previous = self._entries.pop(key, None)
            self._chars += len(text) - (len(previous) if previous is not None else 0)
            self._entries[key] = text
            while len(self._entries) > 1 and (
                len(self._entries) > self._max or self._chars > self._max_chars
            ):
                self._chars -= len(self._entries.popitem(last=False)[1])
        return text

    def put(
        self,
        meeting: MeetingVersion,
        info: GroupInfo,
        ctx: FeedContext,
        alarm: int | None,
        text: str,
    ) -> None:
        """Hold text rendered elsewhere (the event store) as this meeting version's."""
        key = self.key(meeting, info, ctx, alarm)
        with self._lock:
            previous = self._entries.pop(key, None)
            self._chars += len(text) - (len(previous) if previous is not None else 0)
            self._entries[key] = text
            while len(self._entries) > 1 and (
                len(self._entries) > self._max or self._chars > self._max_chars
            ):
                self._chars -= len(self._entries.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
