"""The audit trail at GET /api/changes: token required; who, when, before and after."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import tokens
from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.errors import assert_error

SEEDED = "ai-in-cities-wg2-2023-07-27"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_changes_need_a_token(client: TestClient, engine: Engine) -> None:
    with Session(engine) as session:
        former = tokens.create_token(session, "former")
        tokens.revoke_token(session, "former")
    for headers in ({}, bearer("wrong-token-0123456789"), bearer(former)):
        response = client.get("/api/changes", headers=headers)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/changes", headers=AUTH).status_code == 200
    with Session(engine) as session:
        reader = tokens.create_token(session, "reader")
    assert client.get("/api/changes", headers=bearer(reader)).status_code == 200


def test_changes_are_refused_when_no_token_is_configured(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert_error(client.get("/api/changes", headers=AUTH), 401)


def test_every_write_is_recorded_with_name_time_before_and_after(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        clerk = tokens.create_token(session, "clerk")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seen = client.get("/api/changes", headers=AUTH).json()["count"]
    status_before = client.get("/api/groups/procurement-wg2").json()["status"]
    assert status_before != "completed"

    created = client.post(
        "/api/meetings",
        json={"group": "procurement-wg2", "date": "2030-01-17", "title": "Kick-off"},
        headers=bearer(clerk),
    ).json()
    client.patch(
        f"/api/meetings/{created['uid']}",
        json={"start_time": "15:00", "end_time": "16:00"},
        headers=AUTH,
    )
    client.delete(f"/api/meetings/{created['uid']}", headers=bearer(clerk))
    client.delete(f"/api/meetings/{created['uid']}", headers=bearer(clerk))  # changes nothing
    client.patch("/api/groups/procurement-wg2", json={"status": "completed"}, headers=AUTH)
    client.post(
        "/api/groups",
        json={"slug": "water", "kind": "thematic", "name": "Water"},
        headers=bearer(clerk),
    )

    body = client.get("/api/changes", headers=AUTH).json()
    assert body["count"] == seen + 5
    newest_first = body["data"][:5]
    assert [(c["actor"], c["action"], c["entity"], c["key"]) for c in newest_first] == [
        ("clerk", "create", "group", "water"),
        ("admin", "update", "group", "procurement-wg2"),
        ("clerk", "cancel", "meeting", created["uid"]),
        ("admin", "update", "meeting", created["uid"]),
        ("clerk", "create", "meeting", created["uid"]),
    ]
    for change in newest_first:
        assert dt.datetime.fromisoformat(change["at"]).replace(tzinfo=dt.UTC) >= start
    group_create, group_update, cancel, move, create = newest_first
    assert create["before"] is None
    assert create["after"]["title"] == "Kick-off"
    assert create["after"]["start_time"] is None
    assert (move["before"]["start_time"], move["after"]["start_time"]) == (None, "15:00")
    assert move["after"]["sequence"] == move["before"]["sequence"] + 1
    assert (cancel["before"]["status"], cancel["after"]["status"]) == ("confirmed", "cancelled")
    assert group_update["before"]["status"] == status_before
    assert group_update["after"]["status"] == "completed"
    assert group_create["before"] is None
    assert group_create["after"]["name"] == "Water"


def test_refused_writes_are_not_recorded(client: TestClient) -> None:
    seen = client.get("/api/changes", headers=AUTH).json()["count"]
    client.patch(f"/api/meetings/{SEEDED}", json={"title": "x"})
    client.patch(f"/api/meetings/{SEEDED}", json={"end_time": "01:00"}, headers=AUTH)
    client.patch(
        f"/api/meetings/{SEEDED}", json={"title": "x"}, headers={**AUTH, "If-Match": '"x"'}
    )
    assert client.get("/api/changes", headers=AUTH).json()["count"] == seen


def test_changes_page_with_limit_and_offset(client: TestClient) -> None:
    for n in range(3):
        client.patch(f"/api/meetings/{SEEDED}", json={"title": f"Take {n}"}, headers=AUTH)
    everything = client.get("/api/changes", headers=AUTH).json()
    page = client.get("/api/changes?limit=2&offset=1", headers=AUTH).json()
    assert page["count"] == everything["count"]
    assert page["data"] == everything["data"][1:3]
    assert everything["data"][0]["after"]["title"] == "Take 2"


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=ten"])
def test_bad_paging_is_422(client: TestClient, query: str) -> None:
    assert_error(client.get(f"/api/changes?{query}", headers=AUTH), 422)


def test_the_audit_trail_never_holds_a_token(client: TestClient, engine: Engine) -> None:
    with Session(engine) as session:
        clerk = tokens.create_token(session, "clerk")
    client.patch(f"/api/meetings/{SEEDED}", json={"title": "x"}, headers=bearer(clerk))
    text = client.get("/api/changes?limit=1000", headers=AUTH).text
    for secret in (clerk, ADMIN_TOKEN, tokens.hash_token(clerk)):
        assert secret not in text
