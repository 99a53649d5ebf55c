"""Writes of groups: tokens, validation, conflicts, If-Match, and what a rename does to feeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import tokens
from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.ical_parsers import parse_icalendar
from tests.utils.errors import assert_error, assert_field_error

WG = "ai-in-cities-wg2"
PARENT = "ai-in-cities"
WG_MEETINGS = ["ai-in-cities-wg2-2023-07-27", "ai-in-cities-wg2-2023-09-28"]
NEW_WG = {
    "slug": "ai-in-cities-wg3",
    "kind": "working",
    "code": "WG3",
    "parent": PARENT,
    "name": "Generative AI in city services",
    "leaders": [{"name": "Ada Example", "affiliation": "City of Example"}],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(engine: Engine, name: str) -> str:
    with Session(engine) as session:
        return tokens.create_token(session, name)


def revoked(engine: Engine, name: str) -> str:
    token = issue(engine, name)
    with Session(engine) as session:
        tokens.revoke_token(session, name)
    return token


WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/groups", NEW_WG),
    ("PATCH", f"/api/groups/{WG}", {"status": "ongoing", "status_note": "Kicked off"}),
]

BAD_CREDENTIALS: dict[str, Callable[[Engine], dict[str, str]]] = {
    "no header": lambda engine: {},
    "wrong token": lambda engine: bearer("not-the-token-0123456789"),
    "revoked token": lambda engine: bearer(revoked(engine, "former-clerk")),
    "token as basic": lambda engine: {"Authorization": f"Basic {ADMIN_TOKEN}"},
}


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize("credential", sorted(BAD_CREDENTIALS))
def test_a_group_write_without_a_valid_token_is_401(
    client: TestClient,
    engine: Engine,
    method: str,
    url: str,
    body: dict[str, Any],
    credential: str,
) -> None:
    before = client.get("/api/groups").json()
    response = client.request(method, url, json=body, headers=BAD_CREDENTIALS[credential](engine))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/groups").json() == before


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize("holder", ["admin", "named"])
def test_a_group_write_with_a_good_token_succeeds(
    client: TestClient,
    engine: Engine,
    method: str,
    url: str,
    body: dict[str, Any],
    holder: str,
) -> None:
    headers = AUTH if holder == "admin" else bearer(issue(engine, "clerk"))
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    assert response.headers["ETag"]
    change = client.get("/api/changes", headers=AUTH).json()["data"][0]
    assert change["actor"] == ("admin" if holder == "admin" else "clerk")
    assert change["entity"] == "group"


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_with_no_token_configured_group_writes_are_refused(
    database_url: str, method: str, url: str, body: dict[str, Any]
) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        response = client.request(method, url, json=body, headers=AUTH)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_create_a_working_group_and_its_meetings_reach_the_parent_feed(client: TestClient) -> None:
    response = client.post("/api/groups", json=NEW_WG, headers=AUTH)
    assert response.status_code == 201, response.text
    group = response.json()
    assert (group["slug"], group["parent"], group["code"]) == ("ai-in-cities-wg3", PARENT, "WG3")
    assert group["status"] == "to_be_kicked_off"
    assert group["leaders"] == NEW_WG["leaders"]
    assert response.headers["Location"].endswith("/api/groups/ai-in-cities-wg3")
    assert "ai-in-cities-wg3" in client.get(f"/api/groups/{PARENT}").json()["working_groups"]

    meeting = {"group": "ai-in-cities-wg3", "date": "2030-05-02", "start_time": "10:00"}
    created = client.post("/api/meetings", json={**meeting, "end_time": "11:00"}, headers=AUTH)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    for url in (f"/groups/{PARENT}/calendar.ics", "/groups/ai-in-cities-wg3/calendar.ics"):
        uids = [e.uid for e in parse_icalendar(client.get(url).content)]
        assert f"{uid}@u4ssc.itu.int" in uids


def test_create_a_thematic_group(client: TestClient) -> None:
    body = {"slug": "water", "kind": "thematic", "name": "Water in cities", "status": "proposed"}
    response = client.post("/api/groups", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    assert client.get("/api/groups/water").json()["status"] == "proposed"
    assert client.get("/groups/water/calendar.ics").status_code == 200


def test_a_taken_slug_is_409(client: TestClient) -> None:
    body = {**NEW_WG, "slug": WG}
    assert_error(client.post("/api/groups", json=body, headers=AUTH), 409, "slug", WG)


INVALID_CREATE: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown parent", {"parent": "no-such-group"}, "parent", "no group"),
    ("parent is a working group", {"parent": WG}, "parent", "working group"),
    ("working group without parent", {"parent": None}, "parent", "thematic"),
    ("thematic group with a parent", {"kind": "thematic"}, "parent", "no parent"),
    ("bad slug", {"slug": "AI in Cities"}, "slug", "lowercase"),
    ("bad code", {"code": "WG 3"}, "code", "pattern"),
    ("unknown kind", {"kind": "task-force"}, "kind", "thematic"),
    ("unknown status", {"status": "paused"}, "status", "ongoing"),
    ("name too long", {"name": "n" * 201}, "name", "200"),
    ("control character in name", {"name": "AI\u0007"}, "name", "U+0007"),
    ("newline in status_note", {"status_note": "a\nb"}, "status_note", "U+000A"),
    ("leader without name", {"leaders": [{"affiliation": "X"}]}, "name", "required"),
    ("leader with unknown field", {"leaders": [{"name": "A", "email": "a@b"}]}, "email", "not"),
    ("too many publications", {"publications": ["p"] * 101}, "publications", "100"),
    ("unknown field", {"colour": "blue"}, "colour", "not permitted"),
    ("missing name", {"name": None}, "name", "string"),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in INVALID_CREATE],
    ids=[case[0] for case in INVALID_CREATE],
)
def test_an_invalid_group_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str, reason: str
) -> None:
    count = client.get("/api/groups").json()["count"]
    response = client.post("/api/groups", json={**NEW_WG, **change}, headers=AUTH)
    assert_field_error(response, field, reason)
    assert client.get("/api/groups").json()["count"] == count


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"status": None}, "status", "null"),
        ({"name": None}, "name", "null"),
        ({"status": "dormant"}, "status", "ongoing"),
        ({"scope": "s" * 10_001}, "scope", "10000"),
        ({"name": "Tab\there"}, "name", "U+0009"),
        ({"slug": "renamed"}, "slug", "not permitted"),
        ({"parent": "procurement"}, "parent", "not permitted"),
        ({"kind": "thematic"}, "kind", "not permitted"),
    ],
)
def test_an_invalid_group_patch_is_422_and_changes_nothing(
    client: TestClient, change: dict[str, Any], field: str, reason: str
) -> None:
    before = client.get(f"/api/groups/{WG}").json()
    response = client.patch(f"/api/groups/{WG}", json=change, headers=AUTH)
    assert_field_error(response, field, reason)
    assert client.get(f"/api/groups/{WG}").json() == before


@pytest.mark.parametrize("raw", ["[]", '"ongoing"', "null", "{", "1"])
@pytest.mark.parametrize(
    ("method", "url"), [("POST", "/api/groups"), ("PATCH", f"/api/groups/{WG}")]
)
def test_a_group_body_that_is_not_a_json_object_is_422(
    client: TestClient, method: str, url: str, raw: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    assert_error(client.request(method, url, content=raw, headers=headers), 422)


def test_an_empty_group_patch_is_422(client: TestClient) -> None:
    assert_error(client.patch(f"/api/groups/{WG}", json={}, headers=AUTH), 422, "no field")


@pytest.mark.parametrize("slug", ["no-such-group", "%00", "x" * 300])
def test_a_patch_of_an_unknown_group_is_404(client: TestClient, slug: str) -> None:
    response = client.patch(f"/api/groups/{slug}", json={"status": "ongoing"}, headers=AUTH)
    assert_error(response, 404, "no group")


def test_moving_a_group_through_its_statuses(client: TestClient) -> None:
    for status, note in [
        ("ongoing", None),
        ("to_be_published", "To be published in July 2024"),
        ("completed", None),
    ]:
        body = {"status": status, "status_note": note}
        response = client.patch(f"/api/groups/{WG}", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["status_note"]) == (status, note)
    done = client.patch(
        f"/api/groups/{WG}", json={"publications": ["Autonomous cities report"]}, headers=AUTH
    )
    assert done.json()["publications"] == ["Autonomous cities report"]
    assert WG in [g["slug"] for g in client.get("/api/groups?status=completed").json()["data"]]


def _sequences(client: TestClient) -> dict[str, int]:
    return {uid: client.get(f"/api/meetings/{uid}").json()["sequence"] for uid in WG_MEETINGS}


def _summaries(client: TestClient, url: str) -> dict[str, str]:
    return {e.uid: e.summary for e in parse_icalendar(client.get(url).content)}


@pytest.mark.parametrize(
    ("slug", "change"),
    [
        (WG, {"name": "Autonomous and Connected Cities"}),
        (WG, {"leaders": [{"name": "Okan Geray", "affiliation": "Dubai Digital Authority"}]}),
        (PARENT, {"name": "Artificial intelligence in cities and communities"}),
    ],
)
def test_a_change_that_shows_in_events_raises_their_sequence(
    client: TestClient, slug: str, change: dict[str, Any]
) -> None:
    before = _sequences(client)
    feed_before = client.get(f"/groups/{WG}/calendar.ics").content
    response = client.patch(f"/api/groups/{slug}", json=change, headers=AUTH)
    assert response.status_code == 200, response.text
    assert _sequences(client) == {uid: seq + 1 for uid, seq in before.items()}
    events = parse_icalendar(client.get(f"/groups/{WG}/calendar.ics").content)
    assert {e.sequence for e in events} == {seq + 1 for seq in before.values()}
    assert client.get(f"/groups/{WG}/calendar.ics").content != feed_before


def test_a_rename_shows_in_every_summary(client: TestClient) -> None:
    response = client.patch(f"/api/groups/{WG}", json={"name": "Connected Cities"}, headers=AUTH)
    assert response.status_code == 200, response.text
    summaries = _summaries(client, "/calendar.ics")
    for uid in WG_MEETINGS:
        assert "WG2 Connected Cities" in summaries[f"{uid}@u4ssc.itu.int"]


def test_a_change_that_events_do_not_show_leaves_them_alone(client: TestClient) -> None:
    before = _sequences(client)
    feed = client.get(f"/meetings/{WG_MEETINGS[0]}.ics").content
    response = client.patch(
        f"/api/groups/{WG}",
        json={"status": "ongoing", "scope": "Driverless mobility"},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert _sequences(client) == before
    assert client.get(f"/meetings/{WG_MEETINGS[0]}.ics").content == feed


def test_a_group_patch_that_changes_nothing_changes_nothing(client: TestClient) -> None:
    before = client.get(f"/api/groups/{WG}")
    feed = client.get(f"/groups/{WG}/calendar.ics").content
    current = {key: before.json()[key] for key in ("name", "status", "leaders", "notes")}
    response = client.patch(f"/api/groups/{WG}", json=current, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == before.headers["ETag"]
    assert response.json() == before.json()
    assert client.get(f"/groups/{WG}/calendar.ics").content == feed
    assert _sequences(client) == {uid: 0 for uid in WG_MEETINGS}


def test_a_stale_if_match_on_a_group_is_412(client: TestClient) -> None:
    first = client.get(f"/api/groups/{WG}").headers["ETag"]
    ok = client.patch(
        f"/api/groups/{WG}", json={"status": "ongoing"}, headers={**AUTH, "If-Match": first}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] != first
    stale = client.patch(
        f"/api/groups/{WG}", json={"status": "closed"}, headers={**AUTH, "If-Match": first}
    )
    assert_error(stale, 412, "ETag")
    assert client.get(f"/api/groups/{WG}").json()["status"] == "ongoing"
    fresh = client.patch(
        f"/api/groups/{WG}",
        json={"status": "closed"},
        headers={**AUTH, "If-Match": ok.headers["ETag"]},
    )
    assert fresh.status_code == 200, fresh.text
    assert client.get(f"/api/groups/{WG}").headers["ETag"] == fresh.headers["ETag"]


def test_null_for_an_empty_list_changes_nothing(client: TestClient) -> None:
    before = client.get(f"/api/groups/{WG}")
    assert (before.json()["notes"], before.json()["publications"]) == ([], [])
    response = client.patch(
        f"/api/groups/{WG}", json={"notes": None, "publications": None}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == before.headers["ETag"]
    assert response.json() == before.json()
