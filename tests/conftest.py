"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
an app on it, and a client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from app.store.migrate import prepare

# Starlette's TestClient sends "Host: testserver": the tests allow it (and the fixtures' public
# host) here, for every Settings() they build and every server process they start; production
# defaults do not (app.edge.hosts). A test about the default removes the variable.
os.environ.setdefault("ALLOWED_HOSTS", "testserver,calendar.example.org,localhost,127.0.0.1,[::1]")

ADMIN_TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BASE_URL = "https://calendar.example.org"


# The fixtures through which a test reaches a store: only those tests run again on PostgreSQL.
DATABASE_FIXTURES = frozenset({"database_url", "empty_database_url", "seeded_template"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass (TEST_DATABASE_URL set), deselect the tests that never touch a
    database: layout, install, parsers, folding and the like ran on the SQLite pass already."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        (kept if fixtures & DATABASE_FIXTURES else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _seed_into(url: str) -> None:
    settings = Settings(database_url=url)
    engine = make_engine(url)
    try:
        prepare(engine, settings)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated and seeded once; each test starts from its own copy of it."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        name = f"template_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        _seed_into(url)
        yield name
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "calendar.db"
        _seed_into(f"sqlite:///{path}")
        yield str(path)


def _postgres_database(server_url: str, template: str) -> Iterator[str]:
    """A new PostgreSQL database for one test, copied from the template, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path, seeded_template: str) -> Iterator[str]:
    """A fresh database for this test, holding the seeded action plan."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        yield from _postgres_database(server, seeded_template)
    else:
        path = tmp_path / "calendar.db"
        shutil.copyfile(seeded_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables) for this test."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        yield from _postgres_database(server, "template0")
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, public_base_url=BASE_URL)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def engine(client: TestClient, app: FastAPI) -> Engine:
    """The engine of the running app (the client fixture has migrated and seeded it)."""
    engine: Engine = app.state.engine
    return engine
