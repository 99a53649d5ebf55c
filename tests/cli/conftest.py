"""The command line's store: a copy of a seeded SQLite file per test, named by DATABASE_URL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.store.migrate import prepare
from tests.conftest import BASE_URL


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store as `serve` leaves it on first start: migrated and seeded with the plan."""
    path = tmp_path_factory.mktemp("cli") / "seeded.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        prepare(engine, Settings(database_url=url, seed_file=None, auto_seed=True))
    finally:
        engine.dispose()
    return path


@pytest.fixture
def database(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL for the command line: a fresh copy of a seeded SQLite file, no ADMIN_TOKEN."""
    shutil.copyfile(seeded, tmp_path / "main.db")
    url = f"sqlite:///{tmp_path / 'main.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    for name in ("ADMIN_TOKEN", "SEED_FILE", "AUTO_SEED"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
