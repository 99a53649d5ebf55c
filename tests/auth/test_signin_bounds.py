"""What sign-ins can make the server spend (issue 21), against a real `serve`: password checks
through a bounded pool, no write lock held while hashing, attempts counted before their hash, a
guessed account slowed for everyone but its owner's address, Secure cookies behind https."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from app.auth import accounts
from app.core.db import make_engine
from tests.conftest import AUTH
from tests.edge.test_edge import _env
from tests.utils.server import Server, running_servers

NAME, PASSWORD = "maria", "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _account(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        accounts.add_user(session, NAME, PASSWORD)
    engine.dispose()


def _sign_in(
    server: Server, password: str, address: str | None = None, **headers: str
) -> httpx.Response:
    """The sign-in form, fetched then posted, as a browser would through the proxy: the login
    cookie sent back by hand (httpx keeps a Secure cookie from a plain-http server)."""
    forwarded = {"X-Forwarded-For": address} if address else {}
    scheme = headers.get("X-Forwarded-Proto", "http")
    origin = scheme + "://" + server.url.split("://", 1)[1]
    with httpx.Client(base_url=server.url, timeout=60, headers={**forwarded, **headers}) as http:
        page = http.get("/admin/login")
        token = CSRF.search(page.text)
        assert token, page.text
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        http.cookies.clear()
        return http.post(
            "/admin/login",
            data={"username": NAME, "password": password, "csrf_token": token.group(1)},
            headers={"Origin": origin, "Cookie": cookie},
        )


def _peak_rss_kb(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1))


def test_twenty_concurrent_wrong_sign_ins_take_little_memory_and_never_block_a_write(
    database_url: str, tmp_path: Path
) -> None:
    _account(database_url)
    # Every attempt is hashed here (the per-address limit is out of the way), so the pool alone
    # bounds the memory; the API write runs beside the flood.
    env = _env(database_url, SIGNIN_FAILURES_PER_ADDRESS="1000", SIGNIN_FAILURES_PER_ACCOUNT="1000")
    with running_servers(env, tmp_path) as [server]:
        assert _sign_in(server, "warming up the hasher").status_code == 400
        with httpx.Client(base_url=server.url, timeout=60, headers=AUTH) as api:
            # The first write of a process loads what every write needs: not the flood's doing.
            warm = api.patch("/api/meetings/ai-in-cities-wg2-2023-07-27", json={"title": "Warm"})
            assert warm.status_code == 200, warm.text
        before = _peak_rss_kb(server)
        codes: list[int] = []
        writes: list[float] = []
        flood = [
            threading.Thread(
                target=lambda: codes.append(_sign_in(server, "a wrong guess").status_code)
            )
            for _ in range(20)
        ]
        for thread in flood:
            thread.start()
        with httpx.Client(base_url=server.url, timeout=60, headers=AUTH) as api:
            uid = "ai-in-cities-wg2-2023-07-27"
            for n in range(5):
                began = time.monotonic()
                answer = api.patch(f"/api/meetings/{uid}", json={"title": f"Written {n}"})
                writes.append(time.monotonic() - began)
                assert answer.status_code == 200, answer.text
        for thread in flood:
            thread.join(timeout=120)
        grown = _peak_rss_kb(server) - before
    assert sorted(set(codes)) in ([400], [400, 503]), codes
    assert len(codes) == 20
    print(
        f"figures: peak RSS +{grown} kB, slowest write {max(writes):.3f} s,"
        f" answers {sorted(set(codes))}"
    )
    assert grown < 200 * 1024, f"peak RSS grew by {grown} kB"
    assert max(writes) < 0.5, f"an API write took {max(writes):.2f} s during the flood"


def test_thirty_addresses_guessing_one_account_are_slowed_but_its_owner_gets_in(
    database_url: str, tmp_path: Path
) -> None:
    _account(database_url)
    # Behind a proxy on this host: X-Forwarded-For names each client (FORWARDED_ALLOW_IPS).
    env = _env(database_url, FORWARDED_ALLOW_IPS="127.0.0.1")
    with running_servers(env, tmp_path) as [server]:
        assert _sign_in(server, PASSWORD, "198.51.100.7").status_code == 303  # her own address
        codes = [_sign_in(server, f"guess {n}", f"203.0.113.{n}").status_code for n in range(30)]
        owner = _sign_in(server, PASSWORD, "198.51.100.7")
        stranger = _sign_in(server, PASSWORD, "192.0.2.99")
    print(f"figures: {codes.count(400)} x 400, {codes.count(429)} x 429; owner {owner.status_code}")
    assert codes.count(400) <= 10 and codes.count(429) >= 20, codes
    assert codes[-1] == 429
    assert owner.status_code == 303, owner.text
    assert stranger.status_code == 429  # the account is slowed: a new address waits


def test_the_session_cookie_is_secure_when_a_trusted_proxy_says_https(
    database_url: str, tmp_path: Path
) -> None:
    _account(database_url)
    env = _env(database_url, FORWARDED_ALLOW_IPS="127.0.0.1")
    with running_servers(env, tmp_path) as [server]:
        proxied = _sign_in(server, PASSWORD, "198.51.100.7", **{"X-Forwarded-Proto": "https"})
        plain = _sign_in(server, PASSWORD, "198.51.100.7")
    assert proxied.status_code == 303 and plain.status_code == 303
    assert "secure" in proxied.headers["set-cookie"].lower()
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_a_name_longer_than_any_account_is_refused_without_a_hash(
    database_url: str, tmp_path: Path
) -> None:
    with (
        running_servers(_env(database_url), tmp_path) as [server],
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        token = CSRF.search(http.get("/admin/login").text)
        assert token
        answer = http.post(
            "/admin/login",
            data={"username": "x" * 5000, "password": "p", "csrf_token": token.group(1)},
            headers={"Origin": server.url},
        )
    assert answer.status_code == 400
    assert "Wrong username or password." in answer.text
