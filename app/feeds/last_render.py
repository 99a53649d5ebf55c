"""Each feed's last render, kept so that a re-render starts from it: its rows, event texts,
group stamps and revision; the meetings written since taken out and put back at their places;
all renders held bounded by their rows."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import compress, count
from operator import itemgetter
from typing import cast

from app.feeds.selection import FeedChanges, Row


@dataclass(frozen=True)
class Assembly:
    """A feed's last render: its rows, their event texts (shared with the event cache), the
    group stamps they were rendered at and the data revision they were read at."""

    rows: list[Row]
    parts: list[bytes]
    groups: dict[int, tuple[int, int]]
    revision: int  # read before its rows: every meeting written later is marked above it


def apply_changes(
    last: Assembly, changes: FeedChanges
) -> tuple[list[Row], list[bytes | None], list[int]] | None:
    """The last render's rows and texts with the meetings written since taken out and put back
    at their places, and the places whose texts are to fill. None when the count disagrees (a
    meeting left the store): the feed is then read whole."""
    rows, parts = list(last.rows), cast(list[bytes | None], list(last.parts))
    written = {meeting_id for meeting_id, _, _ in changes.written}
    if written:
        held = map(written.__contains__, map(itemgetter(0), rows))
        for position in reversed(list(compress(count(), held))):
            del rows[position], parts[position]
    placed = sorted((p, row) for _, row, p in changes.written if row is not None and p is not None)
    for position, row in placed:
        if position > len(rows):
            return None
        rows.insert(position, row)
        parts.insert(position, None)
    if len(rows) != changes.total:
        return None
    return rows, parts, [position for position, _ in placed]


class LastRenders:
    """The last render of each feed, least recently rendered first; at most `max_rows` rows
    held in all (the newest always stays)."""

    def __init__(self, max_rows: int = 400_000) -> None:
        self.max_rows = max_rows
        self.rows = 0
        self._renders: OrderedDict[tuple[object, ...], Assembly] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._renders)

    def get(self, key: tuple[object, ...]) -> Assembly | None:
        return self._renders.get(key)

    def put(self, key: tuple[object, ...], assembly: Assembly) -> None:
        with self._lock:
            previous = self._renders.pop(key, None)
            self.rows += len(assembly.rows) - (len(previous.rows) if previous else 0)
            self._renders[key] = assembly
            while len(self._renders) > 1 and self.rows > self.max_rows:
                self.rows -= len(self._renders.popitem(last=False)[1].rows)

    def held_rows(self) -> int:
        """The rows of every render held, counted again."""
        with self._lock:
            return sum(len(assembly.rows) for assembly in self._renders.values())
