"""The console over HTTP: no page without a session, cookie flags, CSRF and Origin on every
POST, throttled sign-ins that never lock out the right password from elsewhere, audit names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from app import crud
from app.api import admin, signin
from app.auth import accounts
from app.core.db import current_revision
from app.models import Change, ConsoleSession, Meeting
from tests.conftest import BASE_URL

NAME, PASSWORD = "alice", "correct horse battery staple"
UID = "ai-in-cities-wg2-2023-07-27"
SLUG = "ai-in-cities-wg2"
ORIGIN = {"Origin": BASE_URL}
FOREIGN = {"Origin": "https://evil.example.com"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _future(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def account(engine: Engine) -> str:
    with Session(engine) as session:
        accounts.add_user(session, NAME, PASSWORD)
    return NAME


def _browser(app: FastAPI, address: str = "192.0.2.10") -> TestClient:
    # The public URL is https: cookies are Secure, so the client must speak https too.
    return TestClient(app, base_url=BASE_URL, follow_redirects=False, client=(address, 40000))


@pytest.fixture
def browser(app: FastAPI, account: str) -> Iterator[TestClient]:
    yield _browser(app)


def _token(page: httpx2.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, name: str = NAME, password: str = PASSWORD) -> httpx2.Response:
    token = _token(client.get("/admin/login"))
    response: httpx2.Response = client.post(
        "/admin/login",
        data={"username": name, "password": password, "csrf_token": token},
        headers=ORIGIN,
    )
    return response


def _signed_in(client: TestClient) -> str:
    """Sign in; the CSRF token of the session."""
    assert sign_in(client).status_code == 303
    return _token(client.get("/admin"))


def _admin_routes(method: str) -> list[str]:
    """Every console route with `method`: a route added later is covered without a new test."""
    return [
        route.path
        for router in (signin.router, admin.router)
        for route in router.routes
        if isinstance(route, APIRoute) and method in (route.methods or ())
    ]


def _concrete(path: str) -> str:
    return path.replace("{uid}", UID).replace("{slug}", SLUG)


def _valid_form(path: str) -> dict[str, str]:
    """A form each POST route would accept, so that only the guard under test refuses it."""
    meeting = {
        "group": SLUG,
        "date": _future(30),
        "start_time": "15:00",
        "end_time": "16:00",
        "timezone": "Europe/Zurich",
        "status": "confirmed",
        "title": "Guarded",
    }
    forms: dict[str, dict[str, str]] = {
        "/admin/meetings/new": meeting,
        "/admin/meetings/{uid}": {**meeting, "version": "1"},
        "/admin/meetings/{uid}/cancel": {"version": "1"},
        "/admin/groups/{slug}": {"status": "completed", "version": "1"},
        "/admin/logout": {},
        "/admin/login": {"username": NAME, "password": PASSWORD},
    }
    return forms[path]


def _writes(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        changes = session.exec(select(func.count()).select_from(Change)).one()
        sessions = session.exec(select(func.count()).select_from(ConsoleSession)).one()
        return current_revision(session), changes, sessions


def test_no_page_under_admin_answers_without_a_session(app: FastAPI, browser: TestClient) -> None:
    paths = [p for p in _admin_routes("GET") if p != "/admin/login"]
    assert len(paths) >= 6, paths
    for cookies in ({}, {"u4ssc_console": "forged-or-expired"}):
        browser.cookies.clear()
        for name, value in cookies.items():
            browser.cookies.set(name, value, domain="calendar.example.org")
        for path in paths:
            response = browser.get(_concrete(path))
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"] == "/admin/login"
    assert browser.get("/admin/login").status_code == 200


def test_session_cookie_is_httponly_strict_and_secure(browser: TestClient) -> None:
    response = sign_in(browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("u4ssc_console=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "secure", "path=/admin"} <= flags, cookie
    page = browser.get("/admin")
    assert page.status_code == 200
    assert "Signed in as alice" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_wrong_password_signs_nobody_in(browser: TestClient) -> None:
    response = sign_in(browser, password="not the password at all")
    assert response.status_code == 400
    assert "Wrong username or password." in response.text
    assert "u4ssc_console" not in response.headers.get("set-cookie", "")
    assert browser.get("/admin").status_code == 303


@pytest.mark.parametrize(
    "guard", ["no token", "wrong token", "foreign origin", "no origin", "null origin"]
)
def test_every_console_post_without_csrf_or_from_elsewhere_is_403_and_writes_nothing(
    app: FastAPI, engine: Engine, browser: TestClient, guard: str
) -> None:
    token = _signed_in(browser)
    paths = _admin_routes("POST")
    assert len(paths) >= 6, paths
    before = _writes(engine)
    for path in paths:
        form = _valid_form(path)
        if path == "/admin/login":
            form["csrf_token"] = _token(browser.get("/admin/login"))
        else:
            form["csrf_token"] = token
        headers: dict[str, str] = dict(ORIGIN)
        if guard == "no token":
            del form["csrf_token"]
        elif guard == "wrong token":
            form["csrf_token"] = "x" * 43
        elif guard == "foreign origin":
            headers = dict(FOREIGN)
        elif guard == "null origin":
            headers = {"Origin": "null"}
        else:
            headers = {}
        response = browser.post(_concrete(path), data=form, headers=headers)
        assert response.status_code == 403, (path, response.status_code, response.text)
        assert "set-cookie" not in response.headers, path
    assert _writes(engine) == before
    # The session still works, and the same form with its token and Origin is accepted.
    form = {**_valid_form("/admin/meetings/new"), "csrf_token": token}
    response = browser.post("/admin/meetings/new", data=form, headers=ORIGIN)
    assert response.status_code == 303, response.text
    assert _writes(engine)[1] == before[1] + 1


def test_a_post_without_a_session_is_403(app: FastAPI, account: str) -> None:
    anonymous = _browser(app)
    form = {**_valid_form("/admin/meetings/new"), "csrf_token": "guess"}
    response = anonymous.post("/admin/meetings/new", data=form, headers=ORIGIN)
    assert response.status_code == 403


def test_twenty_wrong_passwords_are_throttled_yet_the_owner_from_her_own_address_signs_in(
    app: FastAPI, browser: TestClient
) -> None:
    # The secretariat signed in from its own address before: that address is the account's.
    own = _browser(app, address="198.51.100.77")
    assert sign_in(own).status_code == 303
    answers = [sign_in(browser, password=f"wrong guess number {n}") for n in range(20)]
    codes = [a.status_code for a in answers]
    assert set(codes) == {400, 429}, codes
    assert codes.index(429) <= 10, codes
    assert all(code == 429 for code in codes[codes.index(429) :]), codes
    throttled = answers[-1]
    assert int(throttled.headers["retry-after"]) >= 1
    assert "too many failed sign-ins" in throttled.text.lower()
    # The attacker's address stays throttled, even with the right password ...
    assert sign_in(browser).status_code == 429
    # ... but the secretariat, from the address that last signed in, gets in at once.
    again = _browser(app, address="198.51.100.77")
    response = sign_in(again)
    assert response.status_code == 303, response.text
    assert again.get("/admin").status_code == 200


def test_sign_out_ends_the_session_on_the_server(engine: Engine, browser: TestClient) -> None:
    token = _signed_in(browser)
    cookie = browser.cookies.get("u4ssc_console")
    assert cookie
    response = browser.post("/admin/logout", data={"csrf_token": token}, headers=ORIGIN)
    assert response.status_code == 303
    assert _writes(engine)[2] == 0
    browser.cookies.set("u4ssc_console", cookie, domain="calendar.example.org")
    assert browser.get("/admin").status_code == 303


def _age_sessions(engine: Engine, idle: dt.timedelta) -> None:
    with Session(engine) as session:
        for row in session.exec(select(ConsoleSession)).all():
            row.last_seen_at = crud.now() - idle
            session.add(row)
        session.commit()


def test_an_idle_session_expires(app: FastAPI, engine: Engine, browser: TestClient) -> None:
    _signed_in(browser)
    _age_sessions(engine, dt.timedelta(hours=7, minutes=58))
    assert browser.get("/admin").status_code == 200  # used within 8 hours: still on
    _age_sessions(engine, dt.timedelta(hours=8, minutes=1))
    assert browser.get("/admin").status_code == 303
    assert _writes(engine)[2] == 0
    # Sessions nobody comes back to are cleared when someone next signs in.
    _signed_in(browser)
    _age_sessions(engine, dt.timedelta(days=3))
    assert sign_in(_browser(app, address="198.51.100.5")).status_code == 303
    assert _writes(engine)[2] == 1


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(
    engine: Engine, browser: TestClient
) -> None:
    _signed_in(browser)
    with Session(engine) as session:
        accounts.disable_user(session, NAME)
    assert browser.get("/admin").status_code == 303
    assert sign_in(browser).status_code == 400


def _post(client: TestClient, path: str, token: str, **fields: str) -> httpx2.Response:
    response: httpx2.Response = client.post(
        path, data={"csrf_token": token, **fields}, headers=ORIGIN
    )
    return response


def test_console_changes_are_audited_under_the_account_name(
    engine: Engine, browser: TestClient
) -> None:
    token = _signed_in(browser)
    response = _post(browser, "/admin/meetings/new", token, **_valid_form("/admin/meetings/new"))
    assert response.status_code == 303
    uid = response.headers["location"].removeprefix("/admin/meetings/").split("?")[0]
    page = browser.get(f"/admin/meetings/{uid}")
    assert page.status_code == 200
    response = _post(browser, f"/admin/meetings/{uid}/cancel", token, version="1")
    assert response.status_code == 303
    group_form = {"status": "completed", "status_note": "Published", "version": "1"}
    assert _post(browser, f"/admin/groups/{SLUG}", token, **group_form).status_code == 303
    with Session(engine) as session:
        rows = session.exec(select(Change).order_by(col(Change.id).desc()).limit(3)).all()
        meeting = session.exec(select(Meeting).where(Meeting.uid == uid)).one()
    assert [(r.actor, r.action, r.key) for r in rows] == [
        (NAME, "update", SLUG),
        (NAME, "cancel", uid),
        (NAME, "create", uid),
    ]
    assert meeting.status == "cancelled" and meeting.sequence == 1
    audit = browser.get("/admin/changes", params={"group": SLUG})
    assert audit.status_code == 200
    # Statuses and actions as people say them (issue 24, point 3).
    assert "To be kicked off → Completed" in audit.text or "Ongoing → Completed" in audit.text
    assert "Cancelled meeting" in audit.text and "to_be_kicked_off" not in audit.text
    assert audit.text.count(f">{uid}<") == 2


def test_meeting_form_errors_name_the_field_in_the_apis_words(browser: TestClient) -> None:
    token = _signed_in(browser)
    form = {**_valid_form("/admin/meetings/new"), "date": "2030-03-31", "start_time": "02:30"}
    response = _post(browser, "/admin/meetings/new", token, **form)
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="error-start_time">([^<]+)</p>', response.text)
    assert error, response.text
    assert "does not exist" in error.group(1) and "Europe/Zurich" in error.group(1), error.group(1)
    assert 'value="2030-03-31"' in response.text and 'value="Guarded"' in response.text


def test_a_stale_form_saves_nothing_and_shows_the_change(
    engine: Engine, browser: TestClient
) -> None:
    token = _signed_in(browser)
    form: dict[str, Any] = {**_valid_form("/admin/meetings/new")}
    uid = _post(browser, "/admin/meetings/new", token, **form).headers["location"].split("/")[-1]
    uid = uid.split("?")[0]
    opened = _token_and(browser.get(f"/admin/meetings/{uid}"))
    first = _post(browser, f"/admin/meetings/{uid}", token, **{**form, **opened, "title": "One"})
    assert first.status_code == 303
    before = _writes(engine)
    second = _post(browser, f"/admin/meetings/{uid}", token, **{**form, **opened, "title": "Two"})
    assert second.status_code == 409
    assert "someone changed this" in second.text
    assert "Guarded → One" in second.text
    assert _writes(engine) == before


def _token_and(page: httpx2.Response) -> dict[str, str]:
    """The hidden version and opened fields of an edit form."""
    import html

    fields = {}
    for name in ("version", "opened"):
        found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
        assert found, name
        fields[name] = html.unescape(found.group(1))
    return fields


def test_console_pages_have_the_public_csp_and_no_inline_script(
    app: FastAPI, browser: TestClient
) -> None:
    public_csp = browser.get("/").headers["content-security-policy"]
    assert (
        "script-src 'self'" in public_csp
        and "unsafe-inline" not in public_csp.split("script-src")[1].split(";")[0]
    )
    pages = [browser.get("/admin/login")]
    _signed_in(browser)
    for path in _admin_routes("GET"):
        if path != "/admin/login":
            pages.append(browser.get(_concrete(path)))
    for page in pages:
        assert page.status_code == 200, page.url
        assert page.headers["content-security-policy"] == public_csp, page.url
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, flags=re.S)
        assert scripts == [(' src="/static/app.js" defer', "")], (page.url, scripts)
        assert not re.search(r"<[^>]+\son[a-z]+=", page.text), page.url


def leader_rows(page: str) -> dict[str, str]:
    """The group form's leader rows as the page has them (name and organisation inputs)."""
    fields = dict(re.findall(r'name="(leader_(?:name|org)_\d+)" value="([^"]*)"', page))
    found = re.search(r'name="leader_rows" value="(\d+)"', page)
    assert found, page
    return {**fields, "leader_rows": found.group(1)}


def test_a_stale_group_form_saves_nothing_and_shows_the_change(
    engine: Engine, browser: TestClient
) -> None:
    token = _signed_in(browser)
    page = browser.get(f"/admin/groups/{SLUG}")
    assert page.status_code == 200
    opened = _token_and(page)
    leaders = leader_rows(page.text)
    assert leaders["leader_org_0"], page.text
    form = {**opened, **leaders, "status": "ongoing", "status_note": "Kicked off"}
    assert _post(browser, f"/admin/groups/{SLUG}", token, **form).status_code == 303
    before = _writes(engine)
    form = {**opened, **leaders, "status": "completed", "status_note": "Done"}
    stale = _post(browser, f"/admin/groups/{SLUG}", token, **form)
    assert stale.status_code == 409
    assert "Status note</strong>: (none) → Kicked off" in stale.text
    assert _writes(engine) == before
    with Session(engine) as session:
        change = session.exec(select(Change).order_by(col(Change.id).desc())).first()
    assert change is not None and change.after is not None
    # The leaders went through the form's rows and back unchanged.
    assert change.before is not None and change.after["leaders"] == change.before["leaders"]


def test_console_form_errors_are_422_in_the_apis_words_never_500(browser: TestClient) -> None:
    token = _signed_in(browser)
    bad = {
        **_valid_form("/admin/meetings/new"),
        "join_url": "ftp://example.org",
        "end_time": "14:00",
    }
    response = _post(browser, "/admin/meetings/new", token, **bad)
    assert response.status_code == 422
    assert "must be a link starting with http:// or https://" in response.text
    edit = _post(browser, f"/admin/meetings/{UID}", token, version="not a number", title="x")
    assert edit.status_code == 409
    garbage = _post(browser, f"/admin/groups/{SLUG}", token, version="1", status="sleeping")
    assert garbage.status_code == 422
    assert "must be one of: " in garbage.text and "Input should be" not in garbage.text
    nul = sign_in(browser, name="ali\x00ce")
    assert nul.status_code == 400
