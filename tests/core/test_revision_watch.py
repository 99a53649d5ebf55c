"""The revision watcher says when its `current()` is a query (issue 22: `cheap` was always true,
so for an SQLite URL with a query string every fast-path poll queried on the event loop)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.revision_watch import WatchedRevision
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, BASE_URL


def test_a_watched_file_is_cheap_and_a_url_with_a_query_string_is_not(tmp_path: Path) -> None:
    from app.core.db import make_engine

    watched = WatchedRevision(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    unwatched = WatchedRevision(make_engine(f"sqlite:///{tmp_path / 'b.db'}?timeout=20"))
    try:
        assert watched.watching and watched.cheap
        assert not unwatched.watching and not unwatched.cheap
    finally:
        watched.close()
        unwatched.close()


def test_polls_of_an_unwatched_store_never_query_on_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new file, seeded as the app starts; a query string: the watcher cannot watch it.
    url = f"sqlite:///{tmp_path / 'calendar.db'}?timeout=20"
    settings = Settings(database_url=url, admin_token=ADMIN_TOKEN, public_base_url=BASE_URL)
    app = create_app(settings)
    on_loop: list[str] = []
    calls: list[int] = []
    with TestClient(app) as client:
        watcher: WatchedRevision = app.state.feeds.revisions
        assert not watcher.watching and not watcher.cheap
        real = watcher.current

        def current() -> int:
            try:
                asyncio.get_running_loop()
                on_loop.append(threading.current_thread().name)
            except RuntimeError:
                pass
            calls.append(1)
            return real()

        monkeypatch.setattr(watcher, "current", current)
        etag = client.get("/calendar.ics").headers["etag"]

        def poll() -> None:
            for _ in range(10):
                assert client.get("/calendar.ics").status_code == 200
                assert (
                    client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
                )

        pollers = [threading.Thread(target=poll) for _ in range(8)]
        for thread in pollers:
            thread.start()
        for thread in pollers:
            thread.join(timeout=60)
    assert calls, "the revision was never asked for"
    assert not on_loop, f"{len(on_loop)} revision queries ran on the event loop"
