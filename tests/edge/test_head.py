"""HEAD wherever GET is served: every GET route of the app, walked from its route table, answers
HEAD with GET's status and headers and no body (app.edge.head)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from tests.conftest import AUTH

# A real value for each path parameter: the seeded plan's.
EXAMPLES = {
    "slug": "ai-in-cities-wg2",
    "uid": "ai-in-cities-wg2-2023-07-27",
    "path": "app.css",
}
# Headers that differ between two answers to the same request by design.
VARYING = {"date", "x-request-id", "set-cookie"}
# Answers whose body changes with every request (the counters count the request before).
LIVE = {"/metrics"}


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, into included routers too (FastAPI keeps them as the router included)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else [route]


def _get_paths(app: FastAPI) -> list[str]:
    paths = []
    for route in _routes(app.routes):
        if isinstance(route, Mount):
            paths.append(f"{route.path}/app.css")
        elif isinstance(route, Route | APIRoute) and "GET" in (route.methods or ()):
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: EXAMPLES[m.group(1)], route.path))
    return sorted(set(paths))


def _comparable(headers: Mapping[str, str], ignored: set[str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in ignored}


def test_every_get_route_answers_head_with_gets_status_and_headers_and_no_body(
    app: FastAPI, client: TestClient
) -> None:
    paths = _get_paths(app)
    assert len(paths) >= 16, paths
    for path in paths:
        for headers in ({}, AUTH):
            got = client.get(path, headers=headers)
            head = client.head(path, headers=headers)
            assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
            assert head.content == b"", path
            ignored = VARYING | ({"content-length"} if path in LIVE else set())
            assert _comparable(head.headers, ignored) == _comparable(got.headers, ignored), path


def test_head_of_a_conditional_feed_poll_is_a_bodiless_304(client: TestClient) -> None:
    etag = client.get("/calendar.ics").headers["etag"]
    head = client.head("/calendar.ics", headers={"If-None-Match": etag})
    assert head.status_code == 304 and head.content == b""


def test_head_where_get_is_not_served_is_still_refused(client: TestClient) -> None:
    # /api/changes is GET with a token; /admin/logout is POST only.
    assert client.head("/admin/logout").status_code == 405
    assert client.head("/api/nope").status_code == 404
