"""The Host guard checks the whole authority (issue 21): invented ports, case, trailing dots and
leading zeros neither create rendering contexts nor store anything."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.db import make_engine
from app.edge.hosts import Allowed, parse_authority
from tests.edge.test_edge import _address, _env, _rss_kb
from tests.utils.server import running_servers


def _store_bytes(database_url: str) -> int:
    """What the store holds that requests can add: stored event texts (and, on SQLite, the
    files themselves, WAL included)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text(
                    "SELECT COALESCE(SUM(LENGTH(body) + LENGTH(context) + 40), 0) FROM storedevent"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    if not database_url.startswith("sqlite"):
        return int(stored)
    path = Path(database_url.removeprefix("sqlite:///"))
    files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return max(int(stored), sum(os.path.getsize(p) for p in files if p.exists()))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("LocalHost", ("localhost", None)),
        ("localhost.", ("localhost", None)),
        ("localhost:0018401", ("localhost", 18401)),
        ("[::1]:80", ("[::1]", 80)),
        ("localhost:", None),
        ("localhost:99999", None),
        ("localhost:0", None),
        ("local host", None),
        ("a@b", None),
        ("localhost:\uff18\uff10", None),  # fullwidth digits
    ],
)
def test_an_authority_is_read_in_one_spelling(
    header: str, expected: tuple[str, int | None] | None
) -> None:
    assert parse_authority(header) == expected


def test_a_name_is_allowed_bare_on_its_default_port_and_on_the_servers_port_only() -> None:
    allowed = Allowed(frozenset({"localhost", "calendar.example.org:8443"}))
    scope = {"scheme": "http", "server": ("127.0.0.1", 8000)}
    assert allowed.canonical(b"LOCALHOST.", scope) == b"localhost"
    assert allowed.canonical(b"localhost:80", scope) == b"localhost"
    assert allowed.canonical(b"localhost:008000", scope) == b"localhost:8000"
    assert allowed.canonical(b"localhost:20001", scope) is None
    assert allowed.canonical(b"calendar.example.org:8443", scope) == b"calendar.example.org:8443"
    assert allowed.canonical(b"calendar.example.org", scope) is None


def test_100_invented_host_variants_add_nothing_to_the_store(
    database_url: str, tmp_path: Path
) -> None:
    # The production default: no ALLOWED_HOSTS, no PUBLIC_BASE_URL.
    env = _env(database_url, ALLOWED_HOSTS=None)
    with running_servers(env, tmp_path) as [server]:
        _, port = _address(server)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            first = http.get("/calendar.ics", headers={"Host": f"127.0.0.1:{port}"})
            assert first.status_code == 200
            assert f"http://127.0.0.1:{port}/groups/".encode() in first.content
            store = _store_bytes(database_url)
            rss = _rss_kb(server)
            answers = []
            for n in range(25):
                for host in (
                    f"127.0.0.1:{20001 + n}",  # invented ports: refused
                    f"LOCALHOST:{port}" if n % 2 else f"Localhost.:{port}",  # one context
                    f"localhost:{'0' * (n % 5 + 1)}{port}",  # leading zeros: the same
                    f"localhost.:{port}",
                ):
                    answer = http.get("/calendar.ics", headers={"Host": host})
                    answers.append((host, answer.status_code))
                    if answer.status_code == 200:
                        assert f"http://localhost:{port}/groups/".encode() in answer.content
            grown_store = _store_bytes(database_url) - store
            grown_rss = _rss_kb(server) - rss
    refused = [host for host, code in answers if code == 400]
    assert len(refused) == 25 and all(h.startswith("127.0.0.1:2") for h in refused), answers
    assert all(code == 200 for host, code in answers if host not in refused)
    # One more context (localhost on the server's port) is stored once: nothing per request.
    print(f"figures: store +{grown_store} bytes, RSS +{grown_rss} kB after 100 Host variants")
    assert grown_store < 100 * 1024, f"the store grew by {grown_store} bytes"
    assert grown_rss < 10 * 1024, f"RSS grew by {grown_rss} kB"
