"""Events rendered once per change and kept in the store: a fresh process serves every feed
without rendering an event; a change renders that meeting's event again, and only that."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.server import Server, running_servers

FEEDS = ("/calendar.ics", "/groups/ai-in-cities/calendar.ics", "/calendar.ics?cancelled=hide")


def _rendered(server: Server) -> float:
    """Events this process rendered (the event cache's misses), from its own /metrics."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    match = re.search(r"^u4ssc_event_cache_misses_total ([0-9.e+]+)$", text, re.MULTILINE)
    assert match is not None, text[:2000]
    return float(match.group(1))


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _feeds(server: Server) -> dict[str, tuple[bytes, str]]:
    answers = {}
    for path in FEEDS:
        response = httpx.get(server.url + path, timeout=30)
        assert response.status_code == 200, response.text
        answers[path] = (response.content, response.headers["etag"])
    return answers


def test_a_fresh_process_serves_unchanged_meetings_without_rendering_an_event(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_BASE_URL": BASE_URL}
    with running_servers(env, _folder(tmp_path / "first")) as (first,):
        served = _feeds(first)
        assert _rendered(first) > 0  # the seeded plan's events, rendered once and stored
    with running_servers(env, _folder(tmp_path / "second")) as (second,):
        assert _feeds(second) == served  # the same bytes and ETags
        assert _rendered(second) == 0
        # One change: that meeting's event is rendered again, once, for every feed.
        listed = httpx.get(second.url + "/api/meetings?group=ai-in-cities", timeout=30).json()
        uid = listed["data"][0]["uid"]
        changed = httpx.patch(
            f"{second.url}/api/meetings/{uid}", json={"title": "Changed"}, headers=AUTH, timeout=30
        )
        assert changed.status_code == 200, changed.text
        after = _feeds(second)
        assert all(after[path][1] != served[path][1] for path in FEEDS)
        assert _rendered(second) == 1
    with running_servers(env, _folder(tmp_path / "third")) as (third,):
        assert _feeds(third) == after
        assert _rendered(third) == 0
