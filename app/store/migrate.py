"""Bringing a database to the current schema (Alembic), and seeding an empty one."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import ensure_sqlite_folder, sqlite_file
from app.store import seeding

log = logging.getLogger("u4ssc.migrate")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The schema that SQLModel.metadata.create_all made before there were migrations.
INITIAL_REVISION = "0001"
# Any fixed number: the PostgreSQL advisory lock that lets one replica at a time migrate and seed.
_LOCK_KEY = 4_855_300_217
# How long start-up keeps trying, in all, while another process holds an SQLite store's lock
# (migrating or seeding it, or a slow writer): past SQLite's own busy wait, some contention
# (a snapshot gone stale, a WAL being set up) is refused at once rather than waited for.
PREPARE_PATIENCE_SECONDS = 120.0


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built in code so that it works from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _serialise(connection: Connection) -> None:
    """Make replicas starting together take turns: the second waits, then finds nothing to do."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    # SQLite: the connection began with BEGIN IMMEDIATE, which already holds the write lock.


def migrate(engine: Engine) -> None:
    """Upgrade to the newest revision and make sure the revision row exists."""
    ensure_sqlite_folder(engine)
    with engine.execution_options(sqlite_immediate=True).begin() as connection:
        _serialise(connection)
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "revision" in tables:
            log.info("database made before migrations: stamping it at %s", INITIAL_REVISION)
            command.stamp(config, INITIAL_REVISION)
        command.upgrade(config, "head")
        if connection.execute(text("SELECT COUNT(*) FROM revision")).scalar() == 0:
            connection.execute(text("INSERT INTO revision (id, value) VALUES (1, 0)"))


def exists(engine: Engine) -> bool:
    """Whether `engine` holds a calendar store (its tables), looked at without creating one:
    connecting to a missing SQLite file would make it."""
    file = sqlite_file(engine)
    if file is not None and not file.is_file():
        return False
    with engine.connect() as connection:
        return inspect(connection).has_table("revision")


def prepare(engine: Engine, settings: Settings) -> list[str]:
    """Migrate, then load the seed into a fresh, empty database; on an SQLite store another
    process holds, wait and try again (a bounded number of times) instead of failing start-up."""
    delay, deadline = 0.05, time.monotonic() + PREPARE_PATIENCE_SECONDS
    while True:
        try:
            return _prepare_once(engine, settings)
        except OperationalError as error:
            message = str(error.orig).lower()
            contended = "database is locked" in message or "busy" in message
            if not contended or time.monotonic() + delay > deadline:
                raise
            log.warning(
                "the store is busy (another process holds it); trying again in %.2f s", delay
            )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _prepare_once(engine: Engine, settings: Settings) -> list[str]:
    """Migrate, then load the seed into a fresh, empty database."""
    migrate(engine)
    if not settings.auto_seed:
        return []
    with Session(engine.execution_options(sqlite_immediate=True)) as session:
        _serialise(session.connection())
        if not seeding.is_empty(session):
            return []
        report = seeding.load(session, settings.seed_file)
    log.info("seeded an empty database: %d changes", len(report))
    return report
