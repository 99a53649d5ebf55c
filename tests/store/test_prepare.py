"""Start-up on an SQLite store another process holds: prepare() waits and tries again instead
of exiting with "database is locked" (two servers started together on an empty file)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from app.core.config import Settings
from app.core.db import make_engine
from app.store import migrate


def _impatient_engine(url: str) -> Any:
    """The service's engine, but SQLite's own busy wait cut to 50 ms: the lock below outlasts
    it, as a long seed under load outlasts the 30 s one."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    return engine


def _hold_lock(file: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(file, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN EXCLUSIVE")
    held.set()
    threading.Event().wait(seconds)
    other.execute("COMMIT")
    other.close()


def test_prepare_waits_for_another_process_holding_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "store.db"
    url = f"sqlite:///{file}"
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(file, 1.0, held))
    holder.start()
    held.wait(5)
    engine = _impatient_engine(url)
    try:
        with caplog.at_level(logging.WARNING, logger="u4ssc.migrate"):
            report = migrate.prepare(engine, Settings(database_url=url))
        assert report, "the empty store was seeded once the lock was released"
        assert any("the store is busy" in r.getMessage() for r in caplog.records)
        with engine.connect() as connection:
            assert connection.execute(text('SELECT COUNT(*) FROM "group"')).scalar()
    finally:
        holder.join()
        engine.dispose()


def test_prepare_gives_up_after_its_patience(tmp_path: Path, monkeypatch: Any) -> None:
    file = tmp_path / "store.db"
    url = f"sqlite:///{file}"
    monkeypatch.setattr(migrate, "PREPARE_PATIENCE_SECONDS", 0.2)
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(file, 2.0, held))
    holder.start()
    held.wait(5)
    engine = _impatient_engine(url)
    try:
        with pytest.raises(OperationalError, match="locked"):
            migrate.prepare(engine, Settings(database_url=url))
    finally:
        holder.join()
        engine.dispose()
