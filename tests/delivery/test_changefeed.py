"""The Atom change feeds: parsed with feedparser, in order, public data only."""

from __future__ import annotations

import datetime as dt
import re

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app import crud
from app.auth import tokens
from app.core.db import write_session
from app.models import MeetingCreate
from tests.conftest import AUTH, BASE_URL
from tests.delivery.test_announce import future_thursday, human
from tests.utils.errors import assert_error

GROUP = "ai-in-cities-wg2"
LABEL = "AI in cities WG2 Autonomous Cities"


def parsed(client: TestClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def make_changes(client: TestClient) -> tuple[str, dt.date, dt.date]:
    day, later = future_thursday(), future_thursday(15)
    body = {"group": GROUP, "date": day.isoformat(), "start_time": "16:00", "end_time": "17:00"}
    uid = client.post("/api/meetings", json=body, headers=AUTH).json()["uid"]
    patch = {"date": later.isoformat(), "start_time": "15:00", "end_time": "16:30"}
    assert client.patch(f"/api/meetings/{uid}", json=patch, headers=AUTH).is_success
    # A change of title only is no news for this feed.
    assert client.patch(f"/api/meetings/{uid}", json={"title": "Kick-off"}, headers=AUTH)
    assert client.delete(f"/api/meetings/{uid}", headers=AUTH).is_success
    status = {"status": "ongoing", "status_note": "Kicked off"}
    assert client.patch(f"/api/groups/{GROUP}", json=status, headers=AUTH).is_success
    # Another group's change, for the per-group feed to leave out.
    other = {"status": "completed"}
    assert client.patch("/api/groups/procurement-wg2", json=other, headers=AUTH).is_success
    return uid, day, later


def test_the_change_feed_holds_the_changes_newest_first(client: TestClient) -> None:
    uid, day, later = make_changes(client)
    feed = parsed(client, "/changes.atom")
    titles = [entry.title for entry in feed.entries[:5]]
    assert titles[0].startswith("Status: ") and "Completed" in titles[0]
    assert titles[1] == "Status: Autonomous Cities: To be kicked off → Ongoing"
    assert titles[2] == f"Cancelled: {LABEL}: Kick-off, {human(later)}, 15:00-16:30 Geneva time"
    assert titles[3] == (
        f"Rescheduled: {LABEL}, {human(day)}, 16:00-17:00 Geneva time → "
        f"{human(later)}, 15:00-16:30 Geneva time"
    )
    assert titles[4] == f"Added: {LABEL}, {human(day)}, 16:00-17:00 Geneva time"
    # Issue 24, point 9: the entry says from and to, in Geneva time and in UTC.
    moved = feed.entries[3].summary
    assert f"Moved from {human(day)}, 16:00-17:00 Geneva time (" in moved, moved
    assert f"to {human(later)}, 15:00-16:30 Geneva time (" in moved, moved
    assert moved.count(" UTC)") == 2, moved
    assert feed.entries[2].link == f"{BASE_URL}/groups/{GROUP}#meeting-{uid}"
    updated = [entry.updated_parsed for entry in feed.entries]
    assert updated == sorted(updated, reverse=True)
    seeded = [e for e in feed.entries[5:] if e.title.startswith("Added: ")]
    assert len(feed.entries) == 5 + len(seeded)  # and the meetings the seed added
    assert feed.feed.links[0].href == f"{BASE_URL}/changes.atom"


def test_the_feed_holds_the_last_100(client: TestClient, engine: Engine) -> None:
    with write_session(engine) as session:
        for n in range(105):
            day = future_thursday() + dt.timedelta(days=n)
            crud.create_meeting(session, MeetingCreate(group=GROUP, date=day), "test")
    feed = parsed(client, "/changes.atom")
    assert len(feed.entries) == 100
    last = future_thursday() + dt.timedelta(days=104)
    assert feed.entries[0].title == f"Added: {LABEL}, {human(last)} (all day)"
    assert feed.entries[-1].title.endswith(f"{human(last - dt.timedelta(days=99))} (all day)")


def test_a_group_feed_holds_its_own_and_its_working_groups_changes(client: TestClient) -> None:
    make_changes(client)
    feed = parsed(client, f"/groups/{GROUP}/changes.atom")
    titles = [entry.title for entry in feed.entries]
    assert titles[0].startswith("Status: Autonomous Cities")
    assert not any("Completed" in title for title in titles)
    assert all(LABEL in title or "Autonomous Cities" in title for title in titles)
    thematic = parsed(client, "/groups/ai-in-cities/changes.atom")
    assert [e.title for e in thematic.entries][: len(titles)] == titles
    assert_error(client.get("/groups/no-such-group/changes.atom"), 404, "no-such-group")


def test_the_feeds_reveal_no_account_or_token_name(client: TestClient, engine: object) -> None:
    from sqlmodel import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        token = tokens.create_token(session, "secretariat-alice")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"group": GROUP, "date": future_thursday().isoformat()}
    assert client.post("/api/meetings", json=body, headers=headers).status_code == 201
    make_changes(client)
    actors = {c["actor"] for c in client.get("/api/changes", headers=AUTH).json()["data"]}
    assert "secretariat-alice" in actors
    for path in ("/changes.atom", f"/groups/{GROUP}/changes.atom"):
        text = client.get(path).text
        for actor in actors:
            assert not re.search(rf"\b{re.escape(actor)}\b", text), (actor, path)


def test_etag_and_304_and_a_change_gives_a_new_etag(client: TestClient) -> None:
    first = client.get("/changes.atom")
    etag = first.headers["etag"]
    again = client.get("/changes.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/changes.atom").content == first.content
    since = {"If-Modified-Since": first.headers["last-modified"]}
    assert client.get("/changes.atom", headers=since).status_code == 304
    group = client.get(f"/groups/{GROUP}/changes.atom")
    assert group.headers["etag"] != etag
    revalidated = client.get(
        f"/groups/{GROUP}/changes.atom", headers={"If-None-Match": group.headers["etag"]}
    )
    assert revalidated.status_code == 304
    make_changes(client)
    changed = client.get("/changes.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_pages_link_the_change_feeds(client: TestClient) -> None:
    index = client.get("/").text
    assert '<link rel="alternate" type="application/atom+xml"' in index
    assert 'href="/changes.atom"' in index
    page = client.get(f"/groups/{GROUP}").text
    assert f'href="/groups/{GROUP}/changes.atom"' in page
