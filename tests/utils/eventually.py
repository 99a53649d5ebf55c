"""Waiting, with a bound, for what another process sees a moment later."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Issue 14: a write is seen by every other process within one second.
OTHER_PROCESS_SECONDS = 1.0


def within(seconds: float, fetch: Callable[[], T], holds: Callable[[T], bool]) -> T:
    """`fetch()` again until `holds` its answer; fails when a fetch begun `seconds` after the
    first one still does not hold (a slow answer on a busy machine does not count against it)."""
    deadline = time.monotonic() + seconds
    while True:
        begun = time.monotonic()
        answer = fetch()
        if holds(answer):
            return answer
        if begun > deadline:
            raise AssertionError(f"not seen within {seconds} s: {answer!r:.300}")
        time.sleep(0.02)


def revision_known(app: Any, seconds: float = 5.0) -> None:
    """Wait until the app's revision watcher has read the store's revision. Until then (at
    start, and after a local write: on PostgreSQL until its NOTIFY arrives) the poll front
    leaves every request to the stack."""
    watcher = app.state.feeds.revisions
    deadline = time.monotonic() + seconds
    while watcher.current() < 0 and time.monotonic() < deadline:  # UNKNOWN
        time.sleep(0.01)
