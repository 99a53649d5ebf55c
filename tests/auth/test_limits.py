"""Limits: oversized bodies get 413, over-long lists and pages 422, token guessing 429."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.deps import MAX_LIST_PARAMS
from app.auth import limits
from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.errors import assert_error

CAP = Settings().max_body_bytes


def _meeting(group: str, **extra: object) -> dict[str, object]:
    return {
        "group": group,
        "date": "2024-03-05",
        "start_time": "10:00",
        "end_time": "11:00",
    } | extra


def _a_group(client: TestClient) -> str:
    slug: str = client.get("/api/groups").json()["data"][0]["slug"]
    return slug


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """A body sent chunked: no Content-Length, so only counting the bytes can stop it."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_body_over_the_cap_is_refused_with_413_before_anything_else(client: TestClient) -> None:
    before = client.get("/api/meetings").json()["count"]
    body = json.dumps(_meeting(_a_group(client), description="x" * CAP)).encode()
    for headers in (AUTH, {}):
        response = client.post(
            "/api/meetings", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert_error(response, 413, "larger than 65536 bytes")
    assert client.get("/api/meetings").json()["count"] == before


def test_a_chunked_body_over_the_cap_is_counted_and_refused(client: TestClient) -> None:
    before = client.get("/api/meetings").json()["count"]
    body = json.dumps(_meeting(_a_group(client), description="y" * (CAP + 10))).encode()
    response = client.post(
        "/api/meetings",
        content=_chunks(body),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "larger than")
    assert client.get("/api/meetings").json()["count"] == before


def test_a_chunked_body_under_the_cap_is_written(client: TestClient) -> None:
    body = json.dumps(_meeting(_a_group(client), title="Sent in chunks")).encode()
    response = client.post(
        "/api/meetings",
        content=_chunks(body, 7),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Sent in chunks"


def test_a_body_just_under_the_cap_reaches_validation(client: TestClient) -> None:
    group = _a_group(client)
    padding = CAP - len(json.dumps(_meeting(group, description=""))) - 1
    body = json.dumps(_meeting(group, description="z" * padding)).encode()
    assert len(body) < CAP
    response = client.post(
        "/api/meetings", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    # 10,000 characters is the most a description holds: a 422 naming the field, not a 413.
    assert_error(response, 422, "description")


def test_the_cap_follows_the_setting(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'small.db'}",
        admin_token=ADMIN_TOKEN,
        max_body_bytes=2048,
    )
    with TestClient(create_app(settings)) as client:
        group = _a_group(client)
        big = client.post(
            "/api/meetings", json=_meeting(group, description="d" * 2100), headers=AUTH
        )
        assert_error(big, 413, "larger than 2048 bytes")
        small = client.post(
            "/api/meetings", json=_meeting(group, description="d" * 1500), headers=AUTH
        )
        assert small.status_code == 201, small.text


@pytest.mark.parametrize("path", ["/api/meetings", "/calendar.ics"])
def test_more_groups_than_the_cap_in_a_query_is_a_422(client: TestClient, path: str) -> None:
    slug = _a_group(client)
    at_cap = client.get(path, params=[("group", slug)] * MAX_LIST_PARAMS)
    assert at_cap.status_code == 200, at_cap.text
    over = client.get(path, params=[("group", slug)] * (MAX_LIST_PARAMS + 1))
    assert_error(over, 422, "group")


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/api/meetings", {}), ("/api/groups", {}), ("/api/changes", AUTH)],
)
def test_a_limit_over_1000_is_a_422(client: TestClient, path: str, headers: dict[str, str]) -> None:
    assert client.get(path, params={"limit": 1000}, headers=headers).status_code == 200
    for bad in ("1001", "1000000", "0", "-1", "ten"):
        assert_error(client.get(path, params={"limit": bad}, headers=headers), 422, "limit")


def test_repeated_bad_tokens_get_429_for_a_while(app: FastAPI, client: TestClient) -> None:
    now = [1000.0]
    app.state.auth_limiter = limits.AuthLimiter(max_failures=10, window=60.0, clock=lambda: now[0])
    body = _meeting(_a_group(client))
    bad = {"Authorization": "Bearer not-the-token-at-all"}
    for _ in range(10):
        assert_error(client.post("/api/meetings", json=body, headers=bad), 401, "not valid")
    refused = client.post("/api/meetings", json=body, headers=bad)
    detail = assert_error(refused, 429, "too many invalid tokens")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60, (refused.headers, detail)
    # The right token from the same address is never held up (the token is checked first),
    # and does not reset the count: the next bad one is still refused.
    assert client.post("/api/meetings", json=body, headers=AUTH).status_code == 201
    assert_error(client.post("/api/meetings", json=body, headers=bad), 429, "try again in")
    refused = client.post("/api/meetings", json=body, headers=bad).json()["detail"]
    assert " s" not in refused and ("seconds" in refused or "minute" in refused), refused
    # Another client's bad token is counted for that client alone.
    other = TestClient(app, client=("192.0.2.7", 50000))
    assert_error(other.post("/api/meetings", json=body, headers=bad), 401, "not valid")
    # Reads never need a token and are never throttled.
    assert client.get("/api/meetings").status_code == 200
    now[0] += 61
    assert_error(client.post("/api/meetings", json=body, headers=bad), 401, "not valid")
