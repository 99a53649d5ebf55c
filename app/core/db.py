"""The engine, the write session, and the data revision every process agrees on (no HTTP here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

# How long a request waits for a pooled connection before it is answered 503 (Retry-After).
# The admission limit (app.edge.admission) keeps requests in flight under the pool size, so a wait
# this long means the store itself is stuck, not that the pool is too small.
POOL_TIMEOUT_SECONDS = 5.0
# Connections beyond the admitted requests: start-up work, the CLI's commands in-process.
POOL_SPARE = 5


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """An engine for `url` whose pool holds `pool_size` connections (the most requests the
    server admits at once, each using at most one) plus a few spare; SQLite gets WAL, foreign
    keys, a busy timeout and explicit BEGINs."""
    parsed = make_url(url)
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": POOL_SPARE,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **pool)
    in_memory = parsed.database in (None, "", ":memory:") or "mode=memory" in url
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({} if in_memory else pool),
    )

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


def driver_rows(
    connection: Any, statement: Any, parameters: dict[str, Any] | None = None, batch: int = 1000
) -> Iterator[Any]:
    """A statement's rows as the driver's own tuples, a batch at a time, on the caller's
    connection. For columns that need no conversion (integers, text): building SQLAlchemy's
    rows would cost more than the query for 100,000 of them."""
    result = connection.execute(statement, parameters)
    try:
        while rows := result.cursor.fetchmany(batch):
            yield from rows
    finally:
        result.close()


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement; commits on
    success, rolls back on any error, so a write is whole or not at all."""
    with Session(engine.execution_options(sqlite_immediate=True)) as session:
        # Caches built from this session would hold its uncommitted state: see FeedService.
        session.info["writes"] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file of `engine`, made absolute; None for PostgreSQL or an in-memory store."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database.startswith((":memory:", "file:")):
        return None
    return Path(database).absolute()


def store_location(engine: Engine) -> str:
    """Where the store is, as a person reads it: the SQLite file's absolute path, or the
    PostgreSQL URL without its password."""
    file = sqlite_file(engine)
    return str(file) if file else engine.url.render_as_string(hide_password=True)


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


def take_revision(session: Session) -> int:
    """The revision this transaction's writes carry, raised on the first call in a transaction
    and the same on every later one. The raise locks the row until commit, so writers take
    revisions in the order they commit: a meeting written after a feed read revision R is
    marked above R (app.crud.common marks each meeting written)."""
    transaction = session.get_transaction()
    taken = session.info.get("revision")
    if taken is not None and taken[0] is transaction:
        return int(taken[1])
    connection = session.connection()
    connection.execute(text("UPDATE revision SET value = value + 1 WHERE id = 1"))
    value = int(connection.execute(text(REVISION_SQL)).scalar() or 0)
    if connection.dialect.name == "postgresql":
        # Delivered at commit to every process listening (app.core.revision_watch).
        connection.execute(text("NOTIFY u4ssc_revision"))
    session.info["revision"] = (transaction, value)
    return value


def lock_revision(session: Session) -> None:
    """Hold the revision row before locking a meeting's (PostgreSQL; SQLite's writers take
    turns anyway). Every writer then takes the revision row first, or holds no meeting row
    when it does (take_revision at flush), so two writers never wait on each other."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(REVISION_SQL + " FOR UPDATE"))


def bump_revision(session: Session) -> None:
    """Raise the revision for this transaction's writes (once per transaction)."""
    take_revision(session)
