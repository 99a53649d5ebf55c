"""Waiting, with a bound, for what another process sees a moment later."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

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
