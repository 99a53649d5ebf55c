"""The data revision without a query per poll: one background thread per process watches the
store and keeps the current revision in memory.

On an SQLite file the thread asks `PRAGMA data_version` every 100 ms (it changes when any
other connection, of any process, commits) and reads the revision row only then. On
PostgreSQL it LISTENs on a dedicated connection for the NOTIFY every write sends in its own
transaction (app.core.db.bump_revision), and reads the row again on each, and once a second
anyway. A write made through this process marks the revision unknown at its commit, before
its answer is sent, and wakes the thread: until the thread has read the new value `current()`
answers UNKNOWN, so callers take the full path that queries the store. Other processes see the
write within about 100 ms on SQLite and at once (or within a second) on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import REVISION_SQL

log = logging.getLogger("u4ssc")

UNKNOWN = -1
CHANNEL = "u4ssc_revision"
SQLITE_INTERVAL = 0.1
FULL_READ_INTERVAL = 1.0


class Revisions(Protocol):
    """What the feed service and the HTTP edge need of a revision source."""

    @property
    def watching(self) -> bool: ...

    @property
    def cheap(self) -> bool: ...

    def current(self) -> int: ...


def known_revision(watcher: Revisions | None) -> int | None:
    """The revision a watcher holds in memory, or None when a caller would need a query to
    know it (no watcher, nothing to watch, or a write just made it unknown)."""
    if watcher is None or not watcher.watching:
        return None
    revision: int = watcher.current()
    return None if revision == UNKNOWN else revision


class WatchedRevision:
    """The revision of one engine's store: `current()` is a memory read while the store is
    watched (`cheap`), a query otherwise (an in-memory SQLite, a URL with a query string, a
    dialect without a way to watch), which callers on an event loop run in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        self._sqlite_path = (
            str(database)
            if engine.dialect.name == "sqlite"
            and database
            and database != ":memory:"
            and not str(database).startswith("file:")
            and not engine.url.query
            else None
        )
        self._postgres = engine.dialect.name == "postgresql"
        self.watching = self._sqlite_path is not None or self._postgres
        self._value = UNKNOWN
        # Raised at each local commit; the thread's read counts only if none came during it.
        self._generation = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reads = 0
        if self.watching:
            event.listen(Session, "after_commit", self._after_commit)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def cheap(self) -> bool:
        """Whether `current()` answers from memory: no query, fine on an event loop."""
        return self.watching

    def current(self) -> int:
        """The revision as last read, or UNKNOWN; a query when the store is not watched."""
        if not self.watching:
            with self._engine.connect() as shared:
                return int(shared.execute(text(REVISION_SQL)).scalar() or 0)
        if self._thread is None:
            self._start()
        return self._value

    def close(self) -> None:
        if self.watching:
            with contextlib.suppress(Exception):
                event.remove(Session, "after_commit", self._after_commit)
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _after_commit(self, session: Session) -> None:
        bind: Any = session.get_bind()
        if getattr(bind, "pool", None) is not self._engine.pool:
            return
        with self._lock:
            self._generation += 1
            self._value = UNKNOWN
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            target = self._watch_sqlite if self._sqlite_path else self._watch_postgres
            self._thread = threading.Thread(target=target, name="u4ssc-revision", daemon=True)
            self._thread.start()

    def _publish(self, generation: int, value: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._value = value
        self.reads += 1

    def _watch_sqlite(self) -> None:
        assert self._sqlite_path is not None
        connection: sqlite3.Connection | None = None
        seen = None
        while not self._stop.is_set():
            try:
                if connection is None:
                    connection = sqlite3.connect(
                        self._sqlite_path, timeout=30, isolation_level=None
                    )
                    seen = None
                generation = self._generation
                version = connection.execute("PRAGMA data_version").fetchone()[0]
                if version != seen or self._value == UNKNOWN:
                    row = connection.execute(REVISION_SQL).fetchone()
                    seen = version
                    self._publish(generation, int(row[0] or 0) if row else 0)
            except sqlite3.Error:
                # No revision table yet (before migrating), or the file is busy: try again.
                seen = None
            self._wake.wait(SQLITE_INTERVAL)
            self._wake.clear()
        if connection is not None:
            connection.close()

    def _watch_postgres(self) -> None:
        import psycopg

        url = self._engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._listen(connection)
            except Exception:
                log.warning("revision watcher lost its connection; retrying", exc_info=True)
                with self._lock:
                    self._value = UNKNOWN
                self._stop.wait(1.0)

    def _listen(self, connection: Any) -> None:
        reread = True
        waited = 0.0
        while not self._stop.is_set():
            if reread or self._wake.is_set() or waited >= FULL_READ_INTERVAL:
                self._wake.clear()
                generation = self._generation
                row = connection.execute(REVISION_SQL).fetchone()
                self._publish(generation, int(row[0] or 0) if row else 0)
                reread, waited = False, 0.0
            # A notification, or 50 ms, whichever comes first (a local commit sets _wake).
            reread = any(True for _ in connection.notifies(timeout=0.05, stop_after=1))
            waited += 0.05
