"""The engine, the sessions routes receive, and the data revision every process agrees on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level, so that _on_begin decides how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock up front: a reader that later tries to write would fail with
        # "database is locked" instead of waiting when another writer got there first.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


def read_session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement; commits on
    success, rolls back on any error, so a write is whole or not at all."""
    with Session(engine.execution_options(sqlite_immediate=True)) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _write_session_dependency(engine: EngineDep) -> Iterator[Session]:
    with write_session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(read_session)]
WriteSessionDep = Annotated[Session, Depends(_write_session_dependency)]


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def ensure_sqlite_folder(engine: Engine) -> None:
    database = engine.url.database
    # A "file:" URI (uri=true, e.g. mode=ro) names a file that must already exist.
    if is_sqlite(engine) and database and not database.startswith((":memory:", "file:")):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


REVISION_SQL = "SELECT value FROM revision WHERE id = 1"


def current_revision(session: Session) -> int:
    """The data revision: raised by every write, read with one cheap query."""
    value = session.execute(text(REVISION_SQL)).scalar()
    return int(value or 0)


def bump_revision(session: Session) -> None:
    session.execute(text("UPDATE revision SET value = value + 1 WHERE id = 1"))
