"""Console sessions live in the store: two server processes on one database share them, and a
sign-out through one ends the session on the other."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlmodel import Session

from app.auth import accounts
from app.core.db import make_engine
from tests.utils.server import Server, running_servers

PUBLIC = "http://calendar.test"  # both replicas behind one public name
NAME, PASSWORD = "replica-user", "a pass phrase for replicas"


def _token(server: Server, path: str, cookies: dict[str, str]) -> str:
    page = httpx.get(server.url + path, cookies=cookies, timeout=30)
    assert page.status_code == 200, (path, page.status_code)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_a_session_made_on_one_replica_works_and_ends_on_the_other(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_database_url, "ADMIN_TOKEN": None, "PUBLIC_BASE_URL": PUBLIC}
    with running_servers(env, tmp_path, count=2) as (first, second):
        engine = make_engine(empty_database_url)
        try:
            with Session(engine) as session:
                accounts.add_user(session, NAME, PASSWORD)
        finally:
            engine.dispose()
        login = httpx.get(first.url + "/admin/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        signed = httpx.post(
            first.url + "/admin/login",
            data={"username": NAME, "password": PASSWORD, "csrf_token": token.group(1)},
            cookies={"u4ssc_login": login.cookies["u4ssc_login"]},
            headers={"Origin": PUBLIC},
            timeout=30,
        )
        assert signed.status_code == 303, signed.text
        cookie = {"u4ssc_console": signed.cookies["u4ssc_console"]}
        for server in (first, second):
            assert httpx.get(server.url + "/admin", cookies=cookie, timeout=30).status_code == 200
        csrf = _token(second, "/admin", cookie)
        out = httpx.post(
            second.url + "/admin/logout",
            data={"csrf_token": csrf},
            cookies=cookie,
            headers={"Origin": PUBLIC},
            timeout=30,
        )
        assert out.status_code == 303
        for server in (first, second):
            gone = httpx.get(server.url + "/admin", cookies=cookie, timeout=30)
            assert gone.status_code == 303 and gone.headers["location"] == "/admin/login"
