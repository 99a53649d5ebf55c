"""The lean feed path (app.edge.fastpath) answers exactly as the FastAPI feed routes do."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import crud
from app.core.config import Settings
from app.edge.fastpath import FeedFastPath
from app.edge.front import PollFront
from app.feeds.service import FeedService
from app.main import CalendarApp, create_app
from app.models import Meeting, MeetingCreate, MeetingUpdate
from tests.conftest import AUTH
from tests.utils.errors import assert_error
from tests.utils.eventually import revision_known
from tests.utils.stack import layer

COMPARED = (
    "etag",
    "last-modified",
    "cache-control",
    "content-type",
    "content-disposition",
    "content-length",
    "vary",
    "content-encoding",
    "access-control-allow-origin",
)


def _lean(app: FastAPI) -> FeedFastPath:
    """The fast path's layer inside admission (re-renders after a write)."""
    return layer(app, FeedFastPath)


def _front(app: FastAPI) -> PollFront:
    """The front, around the whole stack (answers what the caches hold), once the watcher
    knows the revision: the front answers nothing before."""
    revision_known(app)
    return layer(app, PollFront)


def _served(app: FastAPI) -> int:
    """Feed answers the lean layers gave, the front's and the inner fast path's."""
    return _front(app).served + _lean(app).served


@pytest.fixture
def routes_only(client: TestClient, settings: Settings) -> Iterator[TestClient]:
    """The same service on the same store without the lean path: the routes answer everything."""
    reference = create_app(settings)
    assert isinstance(reference, CalendarApp)
    reference.front = None
    reference.user_middleware = [
        m for m in reference.user_middleware if getattr(m.cls, "__name__", "") != "FeedFastPath"
    ]
    with TestClient(reference) as test_client:
        yield test_client


def _first_uid(engine: Engine) -> str:
    with Session(engine) as session:
        meeting = session.exec(select(Meeting).order_by(Meeting.id)).first()  # type: ignore[arg-type]
        assert meeting is not None
        return meeting.uid


def _some_group(client: TestClient) -> tuple[str, str]:
    groups = client.get("/api/groups").json()["data"]
    thematic = next(g["slug"] for g in groups if g["kind"] == "thematic" and g["working_groups"])
    working = next(g["slug"] for g in groups if g["kind"] == "working")
    return thematic, working


def _urls(client: TestClient, engine: Engine) -> list[str]:
    thematic, working = _some_group(client)
    return [
        "/calendar.ics",
        "/calendar.ics?cancelled=hide",
        f"/calendar.ics?group={thematic}&group={working}&alarm=15",
        f"/groups/{thematic}/calendar.ics",
        f"/groups/{working}/calendar.ics?alarm=0&cancelled=show",
        f"/meetings/{_first_uid(engine)}.ics",
        f"/meetings/{_first_uid(engine)}.ics?alarm=1440",
        "/calendar.ics?lang=fr",
        f"/groups/{working}/calendar.ics?lang=ar&alarm=0",
        f"/meetings/{_first_uid(engine)}.ics?lang=zh",
    ]


def _unfold(body: bytes) -> bytes:
    return body.replace(b"\r\n ", b"")


def _same(lean: object, reference: object) -> None:
    import httpx2

    assert isinstance(lean, httpx2.Response) and isinstance(reference, httpx2.Response)
    assert lean.status_code == reference.status_code
    assert lean.content == reference.content
    for name in COMPARED:
        assert lean.headers.get_list(name) == reference.headers.get_list(name), name
    assert sorted(lean.headers.multi_items()) == sorted(reference.headers.multi_items())


def test_lean_path_answers_like_the_routes(
    client: TestClient, routes_only: TestClient, engine: Engine, app: FastAPI
) -> None:
    for url in _urls(client, engine):
        warm = client.get(url)
        assert warm.status_code == 200, url
        etag, modified = warm.headers["etag"], warm.headers["last-modified"]
        variants: list[tuple[str, dict[str, str]]] = [
            ("GET", {"Accept-Encoding": "identity"}),
            ("GET", {"Accept-Encoding": "gzip"}),
            ("GET", {"Origin": "https://example.com", "Accept-Encoding": "identity"}),
            ("HEAD", {"Accept-Encoding": "identity"}),
            ("HEAD", {"Accept-Encoding": "gzip, br"}),
            ("GET", {"If-None-Match": etag}),
            ("GET", {"If-None-Match": f'"other", W/{etag}'}),
            ("GET", {"If-None-Match": '"other"'}),
            ("GET", {"If-Modified-Since": modified}),
            ("HEAD", {"If-None-Match": etag, "Origin": "https://example.com"}),
        ]
        for method, headers in variants:
            before = _front(app).served
            lean = client.request(method, url, headers=headers)
            # A cached feed: answered by the front, outside the whole stack.
            assert _front(app).served == before + 1, (url, method, headers)
            _same(lean, routes_only.request(method, url, headers=headers))


def test_answers_follow_the_spec(client: TestClient) -> None:
    client.get("/calendar.ics")
    identity = {"Accept-Encoding": "identity"}
    plain = client.get("/calendar.ics", headers={"Origin": "https://example.com", **identity})
    assert plain.status_code == 200
    assert plain.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert plain.headers["content-type"] == "text/calendar; charset=utf-8"
    assert plain.headers["content-disposition"] == 'inline; filename="u4ssc.ics"'
    assert plain.headers["cache-control"].startswith("public, max-age=")
    assert "Accept-Encoding" in plain.headers["vary"]
    assert plain.headers["access-control-allow-origin"] == "*"
    assert plain.headers["etag"].startswith('"') and plain.headers["last-modified"].endswith("GMT")
    assert "content-encoding" not in plain.headers

    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decoded it
    # A strong validator differs per content coding (RFC 9110 8.8.3).
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'

    head = client.head("/calendar.ics", headers=identity)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(plain.content))

    revalidated = client.get(
        "/calendar.ics", headers={**identity, "If-None-Match": plain.headers["etag"]}
    )
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == plain.headers["etag"]


@pytest.mark.parametrize(
    ("url", "status", "fragment"),
    [
        ("/calendar.ics?alarm=9999", 422, "alarm"),
        ("/calendar.ics?alarm=-5", 422, "alarm"),
        ("/calendar.ics?alarm=soon", 422, "alarm"),
        ("/calendar.ics?group=unknown", 422, "unknown"),
        ("/calendar.ics?cancelled=maybe", 422, "cancelled"),
        ("/calendar.ics?lang=de", 422, "use one of ar, en, es, fr, ru, zh"),
        ("/calendar.ics?lang=fr&lang=es", 422, "query"),
        ("/groups/no-such-group/calendar.ics", 404, "no-such-group"),
        ("/groups/no-such-group/calendar.ics?alarm=9999", 422, "alarm"),
        ("/meetings/no-such-meeting.ics", 404, "no-such-meeting"),
    ],
)
def test_bad_requests_get_the_routes_errors(
    client: TestClient, routes_only: TestClient, url: str, status: int, fragment: str
) -> None:
    client.get("/calendar.ics")  # a warm cache must not let a bad request through
    response = client.get(url)
    assert_error(response, status, fragment)
    reference = routes_only.get(url)
    assert response.status_code == reference.status_code
    assert response.json() == reference.json()


def test_a_write_changes_the_next_answer(client: TestClient, engine: Engine, app: FastAPI) -> None:
    uid = _first_uid(engine)
    first = client.get("/calendar.ics")
    assert (
        client.get("/calendar.ics", headers={"If-None-Match": first.headers["etag"]}).status_code
        == 304
    )
    response = client.patch(
        f"/api/meetings/{uid}", json={"title": "Renamed by the API"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    second = client.get("/calendar.ics")
    assert second.headers["etag"] != first.headers["etag"]
    assert b"Renamed by the API" in _unfold(second.content)
    stale = client.get("/calendar.ics", headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200 and stale.content == second.content
    served = _front(app).served
    assert client.get("/calendar.ics").content == second.content
    assert _front(app).served == served + 1


def test_a_write_by_another_process_shows_in_the_next_answer(
    client: TestClient, settings: Settings, engine: Engine, app: FastAPI
) -> None:
    uid = _first_uid(engine)
    first = client.get(f"/meetings/{uid}.ics")
    assert client.get(f"/meetings/{uid}.ics").content == first.content
    script = textwrap.dedent(
        f"""
        from sqlmodel import Session
        from app import crud
        from app.core.db import make_engine, write_session
        from app.models import MeetingUpdate
        engine = make_engine({settings.database_url!r})
        with write_session(engine) as session:
            crud.update_meeting(session, {uid!r}, MeetingUpdate(title="Renamed elsewhere"), "t")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    second = client.get(f"/meetings/{uid}.ics")
    assert second.headers["etag"] != first.headers["etag"]
    assert b"Renamed elsewhere" in _unfold(second.content)


def test_one_change_renders_one_event(client: TestClient, engine: Engine, app: FastAPI) -> None:
    with Session(engine) as session:
        present = len(session.exec(select(Meeting)).all())
        for n in range(50 - present):
            data = MeetingCreate(
                group="digital-wellbeing",
                title=f"Extra {n}",
                date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
                start_time=dt.time(14, 0),
                end_time=dt.time(15, 0),
            )
            crud.create_meeting(session, data, "test")
        uid = session.exec(select(Meeting.uid)).first()
        assert uid is not None
    service: FeedService = app.state.feeds
    feed = client.get("/calendar.ics")
    assert feed.content.count(b"BEGIN:VEVENT") == 50
    misses = service.events.misses
    with Session(engine) as session:
        crud.update_meeting(session, uid, MeetingUpdate(title="Only this one"), "test")
    again = client.get("/calendar.ics")
    assert again.content.count(b"BEGIN:VEVENT") == 50
    assert b"Only this one" in _unfold(again.content)
    assert service.events.misses == misses + 1


def test_after_a_write_a_known_feed_is_rerendered_on_the_lean_path(
    client: TestClient, engine: Engine, app: FastAPI
) -> None:
    uid = _first_uid(engine)
    client.get("/calendar.ics")  # the routes validate it once
    response = client.patch(f"/api/meetings/{uid}", json={"title": "Stampede"}, headers=AUTH)
    assert response.status_code == 200, response.text
    served, renders = _lean(app).served, app.state.feeds.renders
    fresh = client.get("/calendar.ics")
    assert b"Stampede" in _unfold(fresh.content)
    assert _lean(app).served == served + 1
    assert app.state.feeds.renders == renders + 1
    # A meeting's own feed is never known (it may be purged): the routes answer it.
    served = _served(app)
    assert client.get(f"/meetings/{uid}.ics").status_code == 200
    assert _served(app) == served


def test_after_a_write_each_language_is_rerendered_on_the_lean_path_in_its_words(
    client: TestClient, engine: Engine, app: FastAPI
) -> None:
    uid = _first_uid(engine)
    for lang in ("en", "fr", "ru"):
        client.get(f"/calendar.ics?lang={lang}")  # the routes validate each once
    response = client.patch(f"/api/meetings/{uid}", json={"title": "Stampede"}, headers=AUTH)
    assert response.status_code == 200, response.text
    served = _lean(app).served
    bodies = {lang: client.get(f"/calendar.ics?lang={lang}").content for lang in ("en", "fr", "ru")}
    assert _lean(app).served == served + 3
    assert all(b"Stampede" in _unfold(body) for body in bodies.values())
    assert b"Time: " in _unfold(bodies["en"])
    assert "Heure\u00a0: ".encode() in _unfold(bodies["fr"])
    assert "Время: ".encode() in _unfold(bodies["ru"])


def test_requests_the_front_leaves_get_the_routes_answers(
    client: TestClient, routes_only: TestClient, app: FastAPI
) -> None:
    """Headers sent twice, or a cookie: the layers inside settle them, as the routes do."""
    warm = client.get("/calendar.ics")
    etag = warm.headers["etag"]
    cases: list[list[tuple[str, str]]] = [
        [("If-None-Match", '"other"'), ("If-None-Match", etag)],
        [("If-None-Match", etag), ("If-None-Match", '"other"')],
        [("Accept-Encoding", "identity"), ("Accept-Encoding", "gzip")],
        [("Accept-Encoding", "gzip"), ("Accept-Encoding", "identity")],
        [("Origin", "https://a.example"), ("Origin", "https://b.example")],
        [("Cookie", "session=x"), ("Origin", "https://a.example")],
        [("Cookie", "session=x"), ("If-None-Match", etag)],
    ]
    for headers in cases:
        front = _front(app).served
        lean = client.get("/calendar.ics", headers=headers)
        assert _front(app).served == front, headers
        _same(lean, routes_only.get("/calendar.ics", headers=headers))
