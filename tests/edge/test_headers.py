"""Security headers: a CSP without inline script on every page, nosniff and a referrer policy
everywhere, and pages that keep to their own CSP."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH, BASE_URL


def _directives(csp: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} given twice in {csp!r}"
        parsed[name] = values
    return parsed


class _Scripts(HTMLParser):
    """Every <script> (with its src and whether it has a body) and every inline handler."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.inline_bodies: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in names if name.startswith("on")]
        self.handlers += [
            f"<{tag} {name}>"
            for name, value in attrs
            if value and value.strip().lower().startswith("javascript:")
        ]
        if tag == "script":
            self.sources.append(names.get("src"))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_bodies.append(data.strip()[:80])


def _html_paths(client: TestClient) -> list[str]:
    slug = client.get("/api/groups").json()["data"][0]["slug"]
    return ["/", f"/groups/{slug}", "/docs"]


def test_every_page_has_a_csp_without_inline_script_and_no_framing(client: TestClient) -> None:
    for path in _html_paths(client):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:200])
        assert response.headers["content-type"].startswith("text/html")
        csp = _directives(response.headers["content-security-policy"])
        assert csp["script-src"] == ["'self'"], (path, csp)
        assert csp["frame-ancestors"] == ["'none'"], (path, csp)
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'none'"]
        assert csp["default-src"] == ["'self'"]
        # The form of the feed builder submits to the public URL of feeds.
        assert csp["form-action"] == ["'self'", BASE_URL]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_the_pages_keep_to_their_csp(client: TestClient) -> None:
    """What the CSP forbids, the pages must not need: each script is a same-origin file."""
    for path in _html_paths(client):
        scripts = _Scripts()
        scripts.feed(client.get(path).text)
        assert scripts.inline_bodies == [], (path, scripts.inline_bodies)
        assert scripts.handlers == [], (path, scripts.handlers)
        assert scripts.sources, path
        for source in scripts.sources:
            assert source is not None and source.startswith("/static/"), (path, source)
            assert client.get(source).status_code == 200, source


def test_an_unknown_group_page_is_an_html_404_with_the_same_headers(client: TestClient) -> None:
    response = client.get("/groups/no-such-group")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert _directives(response.headers["content-security-policy"])["script-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/groups", 200),
        ("GET", "/api/meetings/no-such-uid", 404),
        ("GET", "/api/meetings?limit=5000", 422),
        ("GET", "/calendar.ics", 200),
        ("GET", "/openapi.json", 200),
        ("POST", "/api/meetings", 401),
        ("GET", "/static/app.js", 200),
    ],
)
def test_every_answer_says_nosniff_and_a_referrer_policy(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status, response.text[:200]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # A CSP belongs to documents; JSON and feeds are not rendered as pages.
    assert "content-security-policy" not in response.headers


def test_the_413_refusal_carries_the_headers_too(client: TestClient) -> None:
    response = client.post(
        "/api/meetings",
        content=b"{" + b" " * 70_000 + b"}",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
