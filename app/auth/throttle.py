"""What one client can make a sign-in spend: failed attempts counted when they start, per
address and per account, and password checks through a small bounded pool.

argon2id takes 64 MiB and tens of milliseconds per check: twenty wrong sign-ins at once used
to take 1.2 GB (issue 21). Here at most `concurrent` checks run at once per process; the rest
wait up to `wait` seconds, then get 503 with Retry-After. An attempt is counted as a failure
before its hash runs, so a burst from one address is refused (429) after `per_address`,
without hashing. An account with `per_account` failures in the window, from any number of
addresses, is slowed for every address but the one that last signed in to it successfully: its
owner still gets in, guessing from many addresses does not."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from app.auth.limits import wait_text


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins. Try again in {wait_text(max(60, retry_after))}."
        )
        self.retry_after = retry_after


class Busy(Exception):
    """No password check could start within the wait: the server is busy checking others."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("The server is busy checking other sign-ins. Try again in a moment.")
        self.retry_after = retry_after


class PasswordChecks:
    """At most `concurrent` password checks at once in this process."""

    def __init__(self, concurrent: int = 2, wait: float = 5.0) -> None:
        self._slots = threading.BoundedSemaphore(concurrent)
        self._wait = wait

    def run(self, check: Callable[[], bool]) -> bool:
        if not self._slots.acquire(timeout=self._wait):
            raise Busy(max(1, math.ceil(self._wait)))
        try:
            return check()
        finally:
            self._slots.release()


class SignInThrottle:
    """Sign-in attempts per address and per account within a sliding window, bounded in keys."""

    def __init__(
        self,
        per_address: int = 10,
        per_account: int = 10,
        window: float = 300.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_address = per_address
        self._per_account = per_account
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._by_account: OrderedDict[str, deque[float]] = OrderedDict()
        self._last_good: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, table: OrderedDict[str, deque[float]], key: str, now: float) -> deque[float]:
        found = table.get(key)
        if found is None:
            if len(table) >= self._max_keys:
                table.popitem(last=False)
            found = table[key] = deque()
        table.move_to_end(key)
        while found and found[0] <= now - self._window:
            found.popleft()
        return found

    def _retry(self, oldest: float, now: float) -> int:
        return max(1, math.ceil(oldest + self._window - now))

    def begin(self, account: str, address: str) -> None:
        """Refuse the attempt (Throttled) or count it as a failure now, before any hash runs;
        `succeeded` or `abandoned` takes it back."""
        now = self._clock()
        with self._lock:
            by_address = self._recent(self._by_address, address, now)
            if len(by_address) >= self._per_address:
                raise Throttled(self._retry(by_address[0], now))
            by_account = self._recent(self._by_account, account, now)
            if len(by_account) >= self._per_account and self._last_good.get(account) != address:
                raise Throttled(self._retry(by_account[0], now))
            by_address.append(now)
            by_account.append(now)

    def abandoned(self, account: str, address: str) -> None:
        """The attempt never reached its check (the server was busy): it does not count."""
        with self._lock:
            for table, key in ((self._by_address, address), (self._by_account, account)):
                found = table.get(key)
                if found:
                    found.pop()

    def succeeded(self, account: str, address: str) -> None:
        """The right password: this attempt does not count, and this address is the account's
        own from now on (it gets in even while the account is being guessed at)."""
        self.abandoned(account, address)
        with self._lock:
            self._last_good[account] = address
            self._last_good.move_to_end(account)
            if len(self._last_good) > self._max_keys:
                self._last_good.popitem(last=False)
