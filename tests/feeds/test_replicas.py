"""Replicas: two server processes on one store agree on data, feed bytes and ETags: the process
that wrote at once, the other within a second (app.core.revision_watch)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.eventually import OTHER_PROCESS_SECONDS, within
from tests.utils.server import Server, running_servers


def _feed(server: Server, path: str = "/calendar.ics") -> tuple[bytes, str]:
    response = httpx.get(server.url + path, timeout=30)
    assert response.status_code == 200, response.text
    return response.content, response.headers["etag"]


def _a_group(server: Server) -> str:
    groups = httpx.get(server.url + "/api/groups", timeout=30).json()["data"]
    slug: str = groups[0]["slug"]
    return slug


def test_a_write_through_one_process_shows_in_the_other_within_a_second(
    empty_database_url: str, tmp_path: Path
) -> None:
    # An empty store: the two processes also race to migrate and seed it, and must not trip.
    env = {
        "DATABASE_URL": empty_database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
    }
    with running_servers(env, tmp_path, count=2) as (writer, reader):
        group = _a_group(reader)
        # Both processes have rendered and cached the feed before the write.
        before_bytes, before_etag = _feed(reader)
        assert _feed(writer) == (before_bytes, before_etag)

        meeting = {
            "group": group,
            "title": "Replica check",
            "date": "2027-03-04",
            "start_time": "14:00",
            "end_time": "15:30",
        }
        created = httpx.post(writer.url + "/api/meetings", json=meeting, headers=AUTH, timeout=30)
        assert created.status_code == 201, created.text
        uid = created.json()["uid"]

        seen = httpx.get(f"{reader.url}/api/meetings/{uid}", timeout=30)
        assert seen.status_code == 200
        assert seen.json()["title"] == "Replica check"

        assert f"UID:{uid}".encode() in _feed(writer)[0].replace(b"\r\n ", b"")
        after_bytes, after_etag = within(
            OTHER_PROCESS_SECONDS,
            lambda: _feed(reader),
            lambda answer: f"UID:{uid}".encode() in answer[0].replace(b"\r\n ", b""),
        )
        assert after_etag != before_etag
        assert f"UID:{uid}".encode() in after_bytes.replace(b"\r\n ", b"")
        assert _feed(writer) == (after_bytes, after_etag)

        group_feed = f"/groups/{group}/calendar.ics"
        assert _feed(reader, group_feed) == _feed(writer, group_feed)

        # And the other way round: a cancellation through the reader shows on the writer.
        cancelled = httpx.delete(f"{reader.url}/api/meetings/{uid}", headers=AUTH, timeout=30)
        assert cancelled.status_code == 200, cancelled.text
        assert httpx.get(f"{writer.url}/api/meetings/{uid}", timeout=30).json()["status"] == (
            "cancelled"
        )
        final = _feed(reader)
        assert final[1] != after_etag
        assert within(OTHER_PROCESS_SECONDS, lambda: _feed(writer), lambda seen: seen == final)
