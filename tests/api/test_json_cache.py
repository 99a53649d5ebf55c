"""The JSON API's reads behind the per-revision cache: a strong ETag on every list (any filter)
and single item, 304 on If-None-Match, a new answer and tag after any write, and the same
answer as the full stack, header for header."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.edge.front import PollFront
from tests.conftest import AUTH
from tests.utils.eventually import revision_known
from tests.utils.stack import layer

READS = (
    "/api/meetings",
    "/api/meetings?group=ai-in-cities",
    "/api/meetings?group=ai-in-cities-wg2&status=confirmed&limit=5&offset=1",
    "/api/meetings?start=2024-01-01&end=2024-12-31",
    "/api/groups",
)


def _first_uid(client: TestClient) -> str:
    uid: str = client.get("/api/meetings?group=ai-in-cities-wg2").json()["data"][0]["uid"]
    return uid


def _reads(client: TestClient) -> list[str]:
    slug = client.get("/api/groups").json()["data"][0]["slug"]
    return [*READS, f"/api/meetings/{_first_uid(client)}", f"/api/groups/{slug}"]


def _strong(tag: str) -> None:
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2, tag


def test_every_read_has_a_strong_etag_and_answers_304_on_a_match(client: TestClient) -> None:
    for path in _reads(client):
        first = client.get(path)
        assert first.status_code == 200, (path, first.text)
        tag = first.headers["etag"]
        _strong(tag)
        again = client.get(path)  # from the cache
        assert again.content == first.content and again.headers["etag"] == tag
        assert int(again.headers["content-length"]) == len(again.content)
        for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
            cached = client.get(path, headers={"If-None-Match": sent})
            assert cached.status_code == 304, (path, sent)
            assert cached.content == b""
            assert cached.headers["etag"] == tag
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_write_changes_the_answers_and_their_tags_at_once(client: TestClient) -> None:
    uid = _first_uid(client)
    paths = [f"/api/meetings/{uid}", "/api/meetings?group=ai-in-cities-wg2"]
    before = {path: client.get(path) for path in paths}
    changed = client.patch(f"/api/meetings/{uid}", json={"title": "Cache check"}, headers=AUTH)
    assert changed.status_code == 200, changed.text
    for path in paths:
        old = before[path]
        after = client.get(path, headers={"If-None-Match": old.headers["etag"]})
        assert after.status_code == 200, path
        assert after.headers["etag"] != old.headers["etag"]
        assert b"Cache check" in after.content


def test_the_single_meeting_tag_is_the_one_writes_check(client: TestClient) -> None:
    uid = _first_uid(client)
    tag = client.get(f"/api/meetings/{uid}").headers["etag"]
    cached_tag = client.get(f"/api/meetings/{uid}").headers["etag"]
    assert cached_tag == tag
    written = client.patch(
        f"/api/meetings/{uid}", json={"title": "If-Match"}, headers={**AUTH, "If-Match": tag}
    )
    assert written.status_code == 200, written.text


def _front(app: FastAPI) -> PollFront:
    revision_known(app)  # the front answers nothing before the watcher knows the revision
    return layer(app, PollFront)


@pytest.mark.parametrize("origin", [None, "https://elsewhere.example"])
def test_cached_answers_carry_the_full_stacks_headers(
    client: TestClient, app: FastAPI, origin: str | None
) -> None:
    headers = {"Origin": origin} if origin else {}
    for path in _reads(client):
        # The credentials keep this request out of the cache: the full stack answers it.
        full = client.get(path, headers={**headers, "Authorization": "Bearer nothing"})
        client.get(path, headers=headers)
        served = _front(app).served
        cached = client.get(path, headers=headers)
        assert _front(app).served == served + 1  # answered around the whole stack
        assert cached.content == full.content
        for name, value in full.headers.items():
            if name not in ("date", "etag", "content-length", "server"):
                assert cached.headers.get(name) == value, (path, name)


def test_errors_are_not_cached(client: TestClient) -> None:
    assert client.get("/api/meetings/no-such-meeting").status_code == 404
    assert client.get("/api/meetings?limit=0").status_code == 422
    assert client.get("/api/meetings?group=no-such-group").status_code == 422
    assert "etag" not in client.get("/api/meetings?limit=0").headers
