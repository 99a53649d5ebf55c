"""Writes of meetings: tokens, validation, reschedule and cancel as seen in every feed, If-Match."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import crud
from app.auth import tokens
from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.ical_parsers import ParsedEvent, parse_icalendar
from tests.utils.errors import assert_error, assert_field_error

SEEDED = "ai-in-cities-wg2-2023-07-27"  # 16:00-17:00 Geneva time (CEST)
GROUP = "ai-in-cities-wg2"
PARENT = "ai-in-cities"
UID_DOMAIN = "u4ssc.itu.int"
# Far enough ahead that a cancelled meeting is still inside the feeds' retention window.
FUTURE = {"group": GROUP, "date": "2030-03-14", "start_time": "15:00", "end_time": "16:30"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_meeting(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/meetings", json={**FUTURE, **fields}, headers=AUTH)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def feed_urls(uid: str) -> list[str]:
    return [
        "/calendar.ics",
        f"/groups/{GROUP}/calendar.ics",
        f"/groups/{PARENT}/calendar.ics",
        f"/meetings/{uid}.ics",
    ]


def event_in(client: TestClient, url: str, uid: str) -> ParsedEvent:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    events = [e for e in parse_icalendar(response.content) if e.uid == f"{uid}@{UID_DOMAIN}"]
    assert len(events) == 1, (url, events)
    return events[0]


def raw_event(client: TestClient, uid: str) -> str:
    """The VEVENT text of `uid` in its own feed, unfolded."""
    text: str = client.get(f"/meetings/{uid}.ics").text.replace("\r\n ", "")
    return text[text.index("BEGIN:VEVENT") : text.index("END:VEVENT")]


def prop(event_text: str, name: str) -> str:
    for line in event_text.split("\r\n"):
        if line.split(":", 1)[0].split(";", 1)[0] == name:
            return line.split(":", 1)[1]
    raise AssertionError(f"no {name} in {event_text}")


# --- tokens -----------------------------------------------------------------------------------

WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/meetings", FUTURE),
    ("PATCH", f"/api/meetings/{SEEDED}", {"title": "Kick-off"}),
    ("DELETE", f"/api/meetings/{SEEDED}", None),
]


def issue(engine: Engine, name: str) -> str:
    with Session(engine) as session:
        return tokens.create_token(session, name)


def revoked(engine: Engine, name: str) -> str:
    token = issue(engine, name)
    with Session(engine) as session:
        tokens.revoke_token(session, name)
    return token


CREDENTIALS: dict[str, Callable[[Engine], dict[str, str]]] = {
    "no header": lambda engine: {},
    "not bearer": lambda engine: {"Authorization": f"Basic {ADMIN_TOKEN}"},
    "empty bearer": lambda engine: {"Authorization": "Bearer "},
    "wrong token": lambda engine: bearer("not-the-token-0123456789"),
    "admin token with a suffix": lambda engine: bearer(ADMIN_TOKEN + "x"),
    "revoked token": lambda engine: bearer(revoked(engine, "former-clerk")),
}


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_a_write_without_a_valid_token_is_401_and_changes_nothing(
    client: TestClient,
    engine: Engine,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    credential: str,
) -> None:
    before = client.get("/calendar.ics").content
    count = client.get("/api/meetings").json()["count"]
    response = client.request(method, url, json=body, headers=CREDENTIALS[credential](engine))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/calendar.ics").content == before
    assert client.get("/api/meetings").json()["count"] == count


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize("holder", ["admin", "named"])
def test_a_write_with_a_good_token_succeeds(
    client: TestClient,
    engine: Engine,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    holder: str,
) -> None:
    headers = AUTH if holder == "admin" else bearer(issue(engine, "clerk-1"))
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    changes = client.get("/api/changes", headers=AUTH).json()["data"]
    assert changes[0]["actor"] == ("admin" if holder == "admin" else "clerk-1")


def test_a_token_issued_again_after_revocation_works_and_the_old_one_does_not(
    client: TestClient, engine: Engine
) -> None:
    old = revoked(engine, "clerk-2")
    new = issue(engine, "clerk-2")
    patch = {"title": "Renamed"}
    assert_error(client.patch(f"/api/meetings/{SEEDED}", json=patch, headers=bearer(old)), 401)
    assert client.patch(f"/api/meetings/{SEEDED}", json=patch, headers=bearer(new)).is_success


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_with_no_token_configured_writes_are_refused_not_open(
    database_url: str, method: str, url: str, body: dict[str, Any] | None
) -> None:
    settings = Settings(database_url=database_url, admin_token=None)
    with TestClient(create_app(settings)) as client:
        for headers in ({}, bearer("anything-at-all-0123456789")):
            response = client.request(method, url, json=body, headers=headers)
            assert_error(response, 401, "no token")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert client.get(f"/api/meetings/{SEEDED}").json()["sequence"] == 0


def test_with_no_admin_token_an_issued_token_still_writes(database_url: str) -> None:
    settings = Settings(database_url=database_url, admin_token=None)
    app = create_app(settings)
    with TestClient(app) as client:
        token = issue(app.state.engine, "clerk-3")
        response = client.patch(
            f"/api/meetings/{SEEDED}", json={"title": "x"}, headers=bearer(token)
        )
        assert response.status_code == 200, response.text


def test_tokens_never_reach_the_logs_or_the_audit_trail(
    client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    named = issue(engine, "clerk-4")
    with caplog.at_level(logging.DEBUG):
        client.post("/api/meetings", json=FUTURE, headers=AUTH)
        client.patch(f"/api/meetings/{SEEDED}", json={"title": "a"}, headers=bearer(named))
        client.delete(f"/api/meetings/{SEEDED}", headers=bearer(named + "-wrong"))
        changes = client.get("/api/changes", headers=AUTH)
    for secret in (ADMIN_TOKEN, named):
        assert secret not in caplog.text
        assert secret not in changes.text
        assert tokens.hash_token(secret) not in changes.text
    assert [c["actor"] for c in changes.json()["data"][:2]] == ["clerk-4", "admin"]


def test_many_bad_tokens_from_one_client_are_throttled(client: TestClient) -> None:
    for _ in range(10):
        assert_error(client.delete(f"/api/meetings/{SEEDED}", headers=bearer("wrong" * 4)), 401)
    response = client.delete(f"/api/meetings/{SEEDED}", headers=bearer("wrong" * 4))
    assert_error(response, 429, "too many")
    assert int(response.headers["Retry-After"]) > 0
    # The valid token is never throttled: only bad ones count, and it is checked first.
    assert client.delete(f"/api/meetings/{SEEDED}", headers=AUTH).status_code == 200


# --- validation -------------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown group", {"group": "no-such-group"}, "group", "no group"),
    ("malformed group", {"group": "Not A Slug"}, "group", "lowercase"),
    ("date that does not exist", {"date": "2023-02-30"}, "date", "date"),
    ("date that is not a date", {"date": "next tuesday"}, "date", "date"),
    ("end before start", {"start_time": "16:00", "end_time": "15:00"}, "end_time", "after"),
    ("end equal to start", {"start_time": "16:00", "end_time": "16:00"}, "end_time", "after"),
    ("only a start", {"start_time": "16:00", "end_time": None}, "end_time", "both"),
    (
        "spring-forward gap",
        {"date": "2024-03-31", "start_time": "02:30", "end_time": "03:30"},
        "start_time",
        "does not exist",
    ),
    (
        "fall-back overlap",
        {"date": "2024-10-27", "start_time": "02:30", "end_time": "03:30"},
        "start_time",
        "twice",
    ),
    (
        "end in the fall-back overlap",
        {"date": "2024-10-27", "start_time": "01:00", "end_time": "02:15"},
        "end_time",
        "twice",
    ),
    ("unknown zone", {"timezone": "Europe/Geneva"}, "timezone", "Europe/Zurich"),
    ("zone that is not a name", {"timezone": "../../etc/passwd"}, "timezone", "unknown"),
    ("time with seconds", {"start_time": "15:00:30"}, "start_time", "HH:MM"),
    ("time out of range", {"start_time": "25:00"}, "start_time", "time"),
    ("title too long", {"title": "x" * 201}, "title", "200"),
    ("description too long", {"description": "x" * 10_001}, "description", "10000"),
    ("bell in a title", {"title": "Kick\u0007off"}, "title", "U+0007"),
    ("newline in a title", {"title": "Kick\noff"}, "title", "U+000A"),
    ("NUL in a description", {"description": "a\u0000b"}, "description", "U+0000"),
    ("empty title", {"title": "   "}, "title", "empty"),
    ("join_url not http", {"join_url": "javascript:alert(1)"}, "join_url", "http"),
    ("unknown status", {"status": "postponed"}, "status", "confirmed"),
    ("date out of range", {"date": "2150-01-01"}, "date", "2099"),
    ("unknown field", {"location": "Geneva"}, "location", "not permitted"),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_an_invalid_meeting_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str, reason: str
) -> None:
    count = client.get("/api/meetings").json()["count"]
    response = client.post("/api/meetings", json={**FUTURE, **change}, headers=AUTH)
    assert_field_error(response, field, reason)
    assert client.get("/api/meetings").json()["count"] == count


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_an_invalid_patch_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, change: dict[str, Any], field: str, reason: str
) -> None:
    before = client.get(f"/api/meetings/{SEEDED}").json()
    response = client.patch(f"/api/meetings/{SEEDED}", json=change, headers=AUTH)
    assert_field_error(response, field, reason)
    assert client.get(f"/api/meetings/{SEEDED}").json() == before


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"end_time": "15:00"}, "end_time", "after the start time"),
        ({"start_time": "17:30"}, "end_time", "after the start time"),
        ({"date": "2024-03-31", "start_time": "02:00"}, "start_time", "does not exist"),
        ({"date": "2024-10-27", "start_time": "01:00", "end_time": "02:30"}, "end_time", "twice"),
        ({"start_time": None}, "end_time", "both"),
        ({"date": None}, "date", "null"),
        ({"timezone": None}, "timezone", "null"),
        ({"group": None}, "group", "null"),
        ({"status": None}, "status", "null"),
        ({"group": "no-such-group"}, "group", "no group"),
    ],
)
def test_a_patch_is_checked_merged_with_the_stored_meeting(
    client: TestClient, change: dict[str, Any], field: str, reason: str
) -> None:
    before = client.get(f"/api/meetings/{SEEDED}").json()
    response = client.patch(f"/api/meetings/{SEEDED}", json=change, headers=AUTH)
    detail = assert_error(response, 422, reason)
    assert detail[0]["loc"] == ["body", field], detail
    assert client.get(f"/api/meetings/{SEEDED}").json() == before


@pytest.mark.parametrize(
    "raw",
    ["[1, 2]", '"a meeting"', "null", "42", "{", "", '{"group": "ai-in-cities-wg2",}'],
)
@pytest.mark.parametrize(
    ("method", "url"), [("POST", "/api/meetings"), ("PATCH", f"/api/meetings/{SEEDED}")]
)
def test_a_body_that_is_not_a_json_object_is_422(
    client: TestClient, method: str, url: str, raw: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    assert_error(client.request(method, url, content=raw, headers=headers), 422)


def test_an_empty_patch_is_422(client: TestClient) -> None:
    assert_error(client.patch(f"/api/meetings/{SEEDED}", json={}, headers=AUTH), 422, "no field")


@pytest.mark.parametrize("uid", ["no-such-meeting", "x" * 500, "a%00b", "%00", "ü"])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_an_unknown_uid_is_404(client: TestClient, method: str, uid: str) -> None:
    body = {"title": "x"} if method == "PATCH" else None
    response = client.request(method, f"/api/meetings/{uid}", json=body, headers=AUTH)
    assert_error(response, 404, "no meeting")


# --- create, reschedule, cancel: what subscribers see --------------------------------------------


def test_create_answers_the_meeting_with_location_and_etag(client: TestClient) -> None:
    response = client.post("/api/meetings", json={**FUTURE, "title": "Kick-off"}, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["start"] == "2030-03-14T15:00:00+01:00"
    assert body["start_utc"].startswith("2030-03-14T14:00:00")
    assert body["sequence"] == 0
    assert response.headers["Location"].endswith(f"/api/meetings/{body['uid']}")
    assert response.headers["ETag"] == client.get(response.headers["Location"]).headers["ETag"]
    for url in feed_urls(body["uid"]):
        event = event_in(client, url, body["uid"])
        assert (event.start, event.end) == ("2030-03-14T14:00:00Z", "2030-03-14T15:30:00Z")


def test_an_all_day_meeting_can_be_added(client: TestClient) -> None:
    body = add_meeting(client, start_time=None, end_time=None)
    assert body["all_day"] is True
    assert event_in(client, "/calendar.ics", body["uid"]).start == "2030-03-14"


def test_reschedule_keeps_the_uid_raises_sequence_and_moves_every_feed(client: TestClient) -> None:
    before = client.get(f"/api/meetings/{SEEDED}").json()
    old_event = raw_event(client, SEEDED)
    for url in feed_urls(SEEDED):
        assert event_in(client, url, SEEDED).start == "2023-07-27T14:00:00Z"

    # From summer time (UTC+2) to winter time (UTC+1).
    move = {"date": "2023-11-02", "start_time": "15:00", "end_time": "16:00"}
    response = client.patch(f"/api/meetings/{SEEDED}", json=move, headers=AUTH)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["uid"] == SEEDED
    assert after["sequence"] > before["sequence"]
    assert after["start"] == "2023-11-02T15:00:00+01:00"
    assert after["start_utc"].startswith("2023-11-02T14:00:00")
    assert after["updated_at"] > before["updated_at"]
    assert client.get(f"/api/meetings/{SEEDED}").json() == after

    for url in feed_urls(SEEDED):
        event = event_in(client, url, SEEDED)
        assert (event.start, event.end) == ("2023-11-02T14:00:00Z", "2023-11-02T15:00:00Z")
        assert event.sequence == after["sequence"]
    new_event = raw_event(client, SEEDED)
    assert prop(new_event, "UID") == prop(old_event, "UID")
    assert prop(new_event, "LAST-MODIFIED") > prop(old_event, "LAST-MODIFIED")
    assert prop(new_event, "DTSTAMP") > prop(old_event, "DTSTAMP")


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Kick-off of WG2"},
        {"description": "Agenda:\n1. Welcome"},
        {"join_url": "https://meet.example.org/wg2"},
        {"status": "tentative"},
        {"start_time": None, "end_time": None},
        {"timezone": "America/New_York", "start_time": "10:00", "end_time": "11:00"},
        {"group": "ai-in-cities-wg1"},
    ],
)
def test_every_visible_change_raises_sequence_and_last_modified(
    client: TestClient, change: dict[str, Any]
) -> None:
    old_event = raw_event(client, SEEDED)
    old = client.get(f"/api/meetings/{SEEDED}").json()
    response = client.patch(f"/api/meetings/{SEEDED}", json=change, headers=AUTH)
    assert response.status_code == 200, response.text
    new_event = raw_event(client, SEEDED)
    assert response.json()["sequence"] == old["sequence"] + 1
    assert int(prop(new_event, "SEQUENCE")) == old["sequence"] + 1
    assert prop(new_event, "LAST-MODIFIED") > prop(old_event, "LAST-MODIFIED")


def test_two_quick_changes_still_raise_last_modified_each_time(client: TestClient) -> None:
    stamps = []
    for n in range(3):
        client.patch(f"/api/meetings/{SEEDED}", json={"title": f"Take {n}"}, headers=AUTH)
        stamps.append(prop(raw_event(client, SEEDED), "LAST-MODIFIED"))
    assert stamps == sorted(set(stamps))


def test_a_patch_that_changes_nothing_changes_nothing(client: TestClient) -> None:
    before = client.get(f"/api/meetings/{SEEDED}")
    feeds = {url: client.get(url).content for url in feed_urls(SEEDED)}
    changes = client.get("/api/changes", headers=AUTH).json()["count"]
    same = {"date": "2023-07-27", "start_time": "16:00", "end_time": "17:00", "status": "confirmed"}
    response = client.patch(f"/api/meetings/{SEEDED}", json=same, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == before.json()
    assert response.headers["ETag"] == before.headers["ETag"]
    assert {url: client.get(url).content for url in feed_urls(SEEDED)} == feeds
    assert client.get("/api/changes", headers=AUTH).json()["count"] == changes


def test_cancel_keeps_the_event_as_cancelled_and_twice_changes_nothing(client: TestClient) -> None:
    created = add_meeting(client)
    uid = created["uid"]
    response = client.delete(f"/api/meetings/{uid}", headers=AUTH)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["uid"] == uid
    assert cancelled["status"] == "cancelled"
    assert cancelled["sequence"] == created["sequence"] + 1
    for url in feed_urls(uid):
        event = event_in(client, url, uid)
        assert event.status == "CANCELLED"
        assert event.sequence == cancelled["sequence"]
        assert event.start == "2030-03-14T14:00:00Z"
    feeds = {url: client.get(url).content for url in feed_urls(uid)}

    again = client.delete(f"/api/meetings/{uid}", headers=AUTH)
    assert again.status_code == 200, again.text
    assert again.json() == cancelled
    assert {url: client.get(url).content for url in feed_urls(uid)} == feeds
    assert client.get(f"/api/meetings/{uid}").json() == cancelled


def test_a_cancelled_meeting_can_be_confirmed_again_as_an_update(client: TestClient) -> None:
    uid = add_meeting(client)["uid"]
    client.delete(f"/api/meetings/{uid}", headers=AUTH)
    response = client.patch(f"/api/meetings/{uid}", json={"status": "confirmed"}, headers=AUTH)
    assert response.json()["sequence"] == 2
    assert event_in(client, "/calendar.ics", uid).status == "CONFIRMED"


# --- If-Match ---------------------------------------------------------------------------------


def test_a_stale_if_match_is_412_and_a_current_one_succeeds(client: TestClient) -> None:
    uid = add_meeting(client)["uid"]
    first = client.get(f"/api/meetings/{uid}").headers["ETag"]
    moved = client.patch(
        f"/api/meetings/{uid}", json={"title": "One"}, headers={**AUTH, "If-Match": first}
    )
    assert moved.status_code == 200, moved.text
    current = moved.headers["ETag"]
    assert current != first

    stale = {**AUTH, "If-Match": first}
    assert_error(client.patch(f"/api/meetings/{uid}", json={"title": "Two"}, headers=stale), 412)
    assert_error(client.delete(f"/api/meetings/{uid}", headers=stale), 412, "ETag")
    assert client.get(f"/api/meetings/{uid}").json()["title"] == "One"

    fresh = {**AUTH, "If-Match": current}
    assert client.patch(f"/api/meetings/{uid}", json={"title": "Two"}, headers=fresh).is_success
    latest = client.get(f"/api/meetings/{uid}").headers["ETag"]
    response = client.delete(f"/api/meetings/{uid}", headers={**AUTH, "If-Match": latest})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != latest
    assert client.get(f"/api/meetings/{uid}").headers["ETag"] == response.headers["ETag"]


def test_if_match_star_and_lists_are_understood(client: TestClient) -> None:
    uid = add_meeting(client)["uid"]
    for form in ("*", '"m0-0", {}', "W/{}"):
        if_match = form.format(client.get(f"/api/meetings/{uid}").headers["ETag"])
        headers = {**AUTH, "If-Match": if_match}
        response = client.patch(f"/api/meetings/{uid}", json={"title": if_match}, headers=headers)
        assert response.status_code == 200, (if_match, response.text)


def test_an_if_match_on_an_unknown_meeting_is_404(client: TestClient) -> None:
    headers = {**AUTH, "If-Match": '"m1-1"'}
    assert_error(client.delete("/api/meetings/nope", headers=headers), 404)


def test_crud_functions_raise_the_same_errors_without_http(engine: Engine) -> None:
    with Session(engine) as session:
        meeting = crud.get_meeting(session, SEEDED)
        stale = crud.meeting_etag(meeting).replace('-1"', '-0"')
        with pytest.raises(crud.PreconditionFailed):
            crud.cancel_meeting(session, SEEDED, "test", expected=stale)
        # A console form's version: the refusal carries the meeting as it is now.
        with pytest.raises(crud.PreconditionFailed) as refused:
            crud.cancel_meeting(session, SEEDED, "test", expected=meeting.version - 1)
        assert refused.value.version == meeting.version
        assert refused.value.snapshot["uid"] == SEEDED
        with pytest.raises(crud.NotFound):
            crud.cancel_meeting(session, "nope", "test")


# --- no input gives a 500 -----------------------------------------------------------------------

_FIELDS = ["group", "title", "date", "start_time", "end_time", "timezone", "status"]
_FIELDS += ["description", "join_url", "sequence", "uid"]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "2024-03-31",
            "2024-10-27",
            "2023-02-29",
            "0001-01-01",
            "9999-12-31",
            "02:30",
            "24:00",
            "23:59",
            "00:00",
            "Europe/Zurich",
            "Pacific/Kiritimati",
            "America/St_Johns",
            "ai-in-cities-wg2",
            "digital-wellbeing",
            "cancelled",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_BODIES = st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=6)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_BODIES, method=st.sampled_from(["POST", "PATCH"]))
def test_no_meeting_body_gives_a_500(client: TestClient, body: dict[str, Any], method: str) -> None:
    url = "/api/meetings" if method == "POST" else f"/api/meetings/{SEEDED}"
    response = client.request(method, url, json=body, headers=AUTH)
    assert response.status_code in (200, 201, 409, 422), (body, response.text)
    if response.status_code >= 400:
        assert_error(response, response.status_code)
    assert client.get(f"/meetings/{SEEDED}.ics").status_code == 200
