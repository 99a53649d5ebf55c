"""Migrations: an empty database of either engine upgrades to a schema equal to the models."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from app import models  # noqa: F401 - registers the tables
from app.core.config import Settings
from app.core.db import current_revision, make_engine
from app.models import Group, Meeting
from app.store import seeding
from app.store.migrate import INITIAL_REVISION, alembic_config, migrate, prepare
from tests.conftest import ADMIN_TOKEN, BASE_URL

TABLES = {"group", "person", "leadership", "meeting", "revision", "apitoken", "change"}
# Added by later revisions: 0002, the console's accounts and sessions; 0003, the outbox.
# 0004, stored event texts; 0005, the feeds' covering indexes on meeting.
LATER_TABLES = {"users", "consolesession", "outboxmessage", "webhook", "storedevent"}


@pytest.fixture
def bare_engine(empty_database_url: str) -> Iterator[Engine]:
    """An engine on the empty database, with nothing created yet."""
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection, warnings.catch_warnings():
        # Indexes on expressions cannot be compared here: the feed-index test compares them.
        warnings.filterwarnings("ignore", ".*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def _heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def test_revisions_form_one_line_from_the_initial_one(bare_engine: Engine) -> None:
    with bare_engine.connect() as connection:
        scripts = ScriptDirectory.from_config(alembic_config(connection))
    assert len(scripts.get_heads()) == 1
    bases = scripts.get_bases()
    assert bases == [INITIAL_REVISION]


def test_upgrade_step_by_step_from_empty_matches_the_models(bare_engine: Engine) -> None:
    with bare_engine.connect() as connection:
        scripts = ScriptDirectory.from_config(alembic_config(connection))
    oldest_first = list(reversed(list(scripts.walk_revisions())))
    assert oldest_first[0].revision == INITIAL_REVISION
    for script in oldest_first:
        with bare_engine.begin() as connection:
            command.upgrade(alembic_config(connection), script.revision)
        assert _heads(bare_engine) == {script.revision}
    assert set(inspect(bare_engine).get_table_names()) >= TABLES | LATER_TABLES
    assert _differences(bare_engine) == []


def _meeting_indexes(engine: Engine) -> dict[str, str]:
    """Each index on meeting, as the store itself writes it (autogenerate skips indexes on
    expressions, so compare_metadata cannot see a difference there)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'meeting'"
        else:
            query = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'meeting'"
            )
        return {name: sql for name, sql in connection.exec_driver_sql(query) if sql}


def test_the_migrations_make_the_feed_indexes_the_models_declare(bare_engine: Engine) -> None:
    migrate(bare_engine)
    migrated = _meeting_indexes(bare_engine)
    declared = [i for i in SQLModel.metadata.tables["meeting"].indexes if "feed" in str(i.name)]
    assert {str(i.name) for i in declared} == {"ix_meeting_feed", "ix_meeting_feed_zones"}
    # Made again from the models' declarations, they read back exactly as the migration's.
    with bare_engine.begin() as connection:
        for index in declared:
            connection.exec_driver_sql(f"DROP INDEX {index.name}")
            index.create(connection)
    assert _meeting_indexes(bare_engine) == migrated


def test_migrate_reaches_head_and_makes_the_revision_row(bare_engine: Engine) -> None:
    migrate(bare_engine)
    migrate(bare_engine)  # running it again changes nothing
    with bare_engine.connect() as connection:
        head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
    assert _heads(bare_engine) == {head}
    assert _differences(bare_engine) == []
    with Session(bare_engine) as session:
        assert current_revision(session) == 0
        assert session.execute(text("SELECT COUNT(*) FROM revision")).scalar() == 1


def test_a_database_made_by_create_all_is_stamped_and_keeps_its_data(bare_engine: Engine) -> None:
    # Databases made before migrations existed have the tables of then (revision 0001's, no
    # later ones) but no alembic_version.
    SQLModel.metadata.create_all(bare_engine, tables=[SQLModel.metadata.tables[t] for t in TABLES])
    with bare_engine.begin() as connection:
        connection.execute(text("INSERT INTO revision (id, value) VALUES (1, 41)"))
    migrate(bare_engine)
    assert _heads(bare_engine)
    assert _differences(bare_engine) == []
    with Session(bare_engine) as session:
        assert current_revision(session) == 41


def test_prepare_seeds_once(bare_engine: Engine, empty_database_url: str) -> None:
    settings = Settings(database_url=empty_database_url)
    first = prepare(bare_engine, settings)
    assert first
    assert prepare(bare_engine, settings) == []


def test_cli_migrate_brings_an_empty_database_to_head(empty_database_url: str) -> None:
    env = {
        "DATABASE_URL": empty_database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "migrate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "current schema" in result.stdout
    engine = make_engine(empty_database_url)
    try:
        assert _differences(engine) == []
        assert set(inspect(engine).get_table_names()) >= TABLES | LATER_TABLES
    finally:
        engine.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_translations_go_down_and_come_back_as_empty_objects_on_existing_rows(
    bare_engine: Engine,
) -> None:
    """Migration 0010 on a store holding the plan: down drops the column and keeps the rows; up
    again gives every existing group and meeting {} (the server default), read as no
    translation."""
    migrate(bare_engine)
    with Session(bare_engine) as session:
        seeding.load(session)
    with bare_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0009")
    assert "translations" not in _columns(bare_engine, "group") | _columns(bare_engine, "meeting")
    with bare_engine.connect() as connection:
        meetings = connection.execute(text("SELECT COUNT(*) FROM meeting")).scalar_one()
    assert meetings > 0
    with bare_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0010")
    assert _differences(bare_engine) == []
    with Session(bare_engine) as session:
        groups = session.exec(select(Group)).all()
        stored = session.exec(select(Meeting)).all()
    assert len(stored) == meetings
    assert groups and all(group.translations == {} for group in groups)
    assert all(meeting.translations == {} for meeting in stored)
