"""The data revision as cheaply as the store allows: on an SQLite file, PRAGMA data_version."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import REVISION_SQL


class RevisionWatcher:
    """The data revision as cheaply as the store allows.

    On an SQLite file each thread keeps one read connection and asks `PRAGMA data_version`,
    which changes only when another connection (of any process) commits; the revision row is
    read again only then. Elsewhere (PostgreSQL, in-memory SQLite) it is one small query.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        database = engine.url.database
        plain_file = (
            engine.dialect.name == "sqlite"
            and bool(database)
            and database != ":memory:"
            and not str(database).startswith("file:")
            and not engine.url.query
        )
        self._path = str(database) if plain_file else None
        self._local = threading.local()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def cheap(self) -> bool:
        """True when a check costs no round trip, so it may run on the event loop."""
        return self._path is not None

    def current(self) -> int:
        if self._path is None:
            with self._engine.connect() as shared:
                return int(shared.execute(text(REVISION_SQL)).scalar() or 0)
        state: list[int] | None = getattr(self._local, "state", None)
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or state is None:
            connection = sqlite3.connect(
                self._path, timeout=30, isolation_level=None, check_same_thread=False
            )
            state = [-1, 0]
            self._local.connection, self._local.state = connection, state
        # Read data_version first: a commit between the two reads is seen again next time.
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != state[0]:
            row = connection.execute(REVISION_SQL).fetchone()
            state[0], state[1] = version, int(row[0] or 0) if row else 0
        return state[1]
