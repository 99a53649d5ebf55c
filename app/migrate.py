"""Bringing a database to the current schema, and seeding an empty one."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app import (
    models,  # noqa: F401 - registers the tables
    seeding,
)
from app.config import Settings
from app.db import ensure_sqlite_folder

log = logging.getLogger("u4ssc.migrate")


def migrate(engine: Engine) -> None:
    """Create what is missing and the revision row."""
    ensure_sqlite_folder(engine)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        if connection.execute(text("SELECT COUNT(*) FROM revision")).scalar() == 0:
            connection.execute(text("INSERT INTO revision (id, value) VALUES (1, 0)"))


def prepare(engine: Engine, settings: Settings) -> list[str]:
    """Migrate, then load the seed into a fresh, empty database."""
    migrate(engine)
    if not settings.auto_seed:
        return []
    with Session(engine.execution_options(sqlite_immediate=True)) as session:
        if not seeding.is_empty(session):
            return []
        report = seeding.load(session, settings.seed_file)
    log.info("seeded an empty database: %d changes", len(report))
    return report
