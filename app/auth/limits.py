"""Throttling clients: those that keep sending bad tokens, and those that subscribe too often."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


def wait_text(seconds: int) -> str:
    """A wait as people say it: "a minute", "5 minutes", "30 seconds"."""
    if seconds < 60:
        return "a few seconds" if seconds <= 5 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"


class TooManyFailures(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many invalid tokens from this address; try again in {wait_text(retry_after)}"
        )
        self.retry_after = retry_after


class AuthLimiter:
    """After `max_failures` bad tokens within `window` seconds, a client waits out the window."""

    def __init__(
        self,
        max_failures: int = 10,
        window: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._clock = clock
        self._max = max_failures
        self._window = window
        self._max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return
            while failures and failures[0] <= now - self._window:
                failures.popleft()
            if not failures:
                del self._failures[client]
            elif len(failures) >= self._max:
                raise TooManyFailures(max(1, math.ceil(failures[0] + self._window - now)))

    def failed(self, client: str) -> None:
        with self._lock:
            if client not in self._failures and len(self._failures) >= self._max_clients:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(client, deque()).append(self._clock())


class TooManyRequests(TooManyFailures):
    def __init__(self, retry_after: int) -> None:
        Exception.__init__(
            self, f"too many requests from this address; try again in {wait_text(retry_after)}"
        )
        self.retry_after = retry_after


class RequestLimiter(AuthLimiter):
    """At most `max_failures` requests per `window` seconds from one client (subscribing: each
    request may mail a stranger, so a client cannot make many)."""

    def take(self, client: str) -> None:
        try:
            self.check(client)
        except TooManyFailures as exc:
            raise TooManyRequests(exc.retry_after) from None
        self.failed(client)
