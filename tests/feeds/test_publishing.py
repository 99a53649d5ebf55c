"""The feed service: a burst of polls after a write renders each feed once."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import crud
from app.api.deps import feed_context
from app.core.db import write_session
from app.feeds.selection import FeedSelection
from app.feeds.service import FeedService
from app.models import Meeting
from tests.conftest import AUTH


def test_concurrent_misses_render_once(client: TestClient, app: FastAPI) -> None:
    response = client.patch(
        "/api/meetings/ai-in-cities-wg2-2023-09-28", json={"title": "Moved"}, headers=AUTH
    )
    assert response.status_code == 200
    service = FeedService()
    settings = app.state.settings
    ctx = feed_context(settings, "https://calendar.example.org")
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def poll() -> None:
        with Session(app.state.engine) as session:
            barrier.wait()
            rendered = service.feed(session, FeedSelection(), ctx, 90)
            results.append(rendered.body)

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert b"Moved" in results[0]
    assert service.renders == 1
    assert service.hits == 7


def _render(service: FeedService, app: FastAPI, selection: FeedSelection) -> bytes:
    ctx = feed_context(app.state.settings, "https://calendar.example.org")
    with Session(app.state.engine) as session:
        return service.feed(session, selection, ctx, 90).body


def test_a_re_render_reuses_unchanged_events_and_equals_a_render_from_nothing(
    client: TestClient, app: FastAPI
) -> None:
    # A re-render starts from the feed's last render (rows compared, texts kept): whatever
    # the write did (a new title, a new date that moves the meeting in feed order, a
    # cancellation, a new meeting), the bytes must be those a new service renders from nothing.
    service = FeedService()
    feeds = [FeedSelection(), FeedSelection(("ai-in-cities",)), FeedSelection(hide_cancelled=True)]
    for selection in feeds:
        _render(service, app, selection)
    uid = "ai-in-cities-wg2-2023-09-28"
    writes = [
        ("patch", f"/api/meetings/{uid}", {"title": "Renamed"}),
        ("patch", f"/api/meetings/{uid}", {"date": "2023-07-02"}),
        ("patch", f"/api/meetings/{uid}", {"status": "cancelled"}),
        ("post", "/api/meetings", {"group": "ai-in-cities-wg2", "date": "2023-08-08"}),
    ]
    for method, path, body in writes:
        answer = getattr(client, method)(path, json=body, headers=AUTH)
        assert answer.status_code in (200, 201), answer.text
        rendered_before = service.events.misses
        for selection in feeds:
            assert _render(service, app, selection) == _render(FeedService(), app, selection)
        # The one meeting written is rendered again (once per context it shows in), no other.
        assert service.events.misses - rendered_before <= 1


GROUPS = ["ai-in-cities", "ai-in-cities-wg1", "ai-in-cities-wg2", "city-platforms-wg3"]


def _random_write(client: TestClient, app: FastAPI, chance: random.Random, uids: list[str]) -> None:
    """One write of any kind a subscriber would see, on dates around today (a cancelled
    meeting older than the retention window leaves the feeds)."""
    today = dt.date.today()
    day = (today + dt.timedelta(days=chance.randint(-120, 120))).isoformat()
    uid = chance.choice(uids)
    kind = chance.choice(["title", "date", "times", "all-day", "cancel", "group", "new", "purge"])
    bodies: dict[str, dict[str, object]] = {
        "title": {"title": f"Title {chance.random():.6f}"},
        "date": {"date": day},
        "times": {"start_time": "09:30", "end_time": "10:30", "date": day},
        "all-day": {"start_time": None, "end_time": None},
        "cancel": {"status": "cancelled"},
        "group": {"group": chance.choice(GROUPS)},
    }
    body = bodies.get(kind, {})
    if kind == "new":
        answer = client.post(
            "/api/meetings", json={"group": chance.choice(GROUPS), "date": day}, headers=AUTH
        )
        assert answer.status_code == 201, answer.text
        uids.append(answer.json()["uid"])
    elif kind == "purge":
        with write_session(app.state.engine) as session:
            crud.purge_meeting(session, uid, "test")
        uids.remove(uid)
    else:
        answer = client.patch(f"/api/meetings/{uid}", json=body, headers=AUTH)
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("seed", range(1, 7))
def test_re_renders_from_what_was_written_equal_renders_from_nothing(
    client: TestClient, app: FastAPI, seed: int
) -> None:
    # A re-render reads only the meetings written since the feed's last render and puts them
    # at their places. After any mix of writes (one or several between renders, moves in feed
    # order, meetings entering and leaving a feed, new and purged ones), every feed must be
    # byte for byte, ETag and Last-Modified, what a new service renders from nothing.
    chance = random.Random(seed)
    service = FeedService()
    feeds = [
        FeedSelection(),
        FeedSelection(("ai-in-cities",)),
        FeedSelection(("ai-in-cities-wg2", "city-platforms")),
        FeedSelection(hide_cancelled=True),
    ]
    ctx = feed_context(app.state.settings, "https://calendar.example.org")
    with Session(app.state.engine) as session:
        uids = [m.uid for m in session.exec(select(Meeting)).all()]
    for _ in range(12):
        for _ in range(chance.choice([1, 1, 1, 2, 3])):
            _random_write(client, app, chance, uids)
        for selection in feeds:
            with Session(app.state.engine) as session:
                again = service.feed(session, selection, ctx, 90)
                fresh = FeedService().feed(session, selection, ctx, 90)
            assert again.body == fresh.body
            assert (again.etag, again.last_modified) == (fresh.etag, fresh.last_modified)
    # Most re-renders read only what was written (a purge makes a feed read whole once).
    assert service.partial_renders >= service.renders // 2


def test_meeting_and_group_writes_at_once_neither_wait_on_each_other_nor_stale_a_feed(
    client: TestClient, app: FastAPI
) -> None:
    # Meeting writes mark their rows with the revision, group writes touch their meetings: on
    # PostgreSQL both lock rows and the revision row, always in the same order (revision row
    # first), so none deadlocks. Then the service's feed is what a new service renders.
    ctx = feed_context(app.state.settings, "https://calendar.example.org")
    service = app.state.feeds
    with Session(app.state.engine) as session:
        service.feed(session, FeedSelection(), ctx, 90)
        ids = crud.group_ids_covering(session, ["ai-in-cities"])
        uids = list(session.exec(select(Meeting.uid).where(col(Meeting.group_id).in_(ids))).all())
    assert uids
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def meetings(n: int) -> None:
        barrier.wait()
        for i in range(8):
            path = f"/api/meetings/{uids[(n + i) % len(uids)]}"
            body = {"title": f"Writer {n} title {i}"}
            statuses.append(client.patch(path, json=body, headers=AUTH).status_code)

    def group(n: int) -> None:
        barrier.wait()
        for i in range(8):
            body = {"name": f"AI in cities, take {n}.{i}"}
            answer = client.patch("/api/groups/ai-in-cities", json=body, headers=AUTH)
            statuses.append(answer.status_code)

    writers = [meetings, meetings, group, group]
    threads = [threading.Thread(target=f, args=(n,)) for n, f in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 32
    with Session(app.state.engine) as session:
        again = service.feed(session, FeedSelection(), ctx, 90)
        fresh = FeedService().feed(session, FeedSelection(), ctx, 90)
    assert again.body == fresh.body
    assert again.etag == fresh.etag
