"""Texts per language through the API: written by POST and PATCH on groups and meetings, always
read back ({} when none), refused with a 422 naming the field when wrong, and a translation
change is a change: the meeting's SEQUENCE rises as for any text its subscribers see."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH
from tests.utils.errors import assert_field_error

WG = "ai-in-cities-wg2"
MEETING = "ai-in-cities-wg2-2023-07-27"
FUTURE = {"group": WG, "date": "2030-03-14", "start_time": "15:00", "end_time": "16:30"}
FRENCH = {"fr": {"title": "Lancement", "description": "Ordre du jour"}}


def _patch(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    return _ok(client.patch(f"/api/meetings/{MEETING}", json=body, headers=AUTH))


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_group_and_meeting_reads_with_its_translations_empty_when_none(
    client: TestClient,
) -> None:
    groups = client.get("/api/groups?limit=1000").json()["data"]
    meetings = client.get("/api/meetings?limit=1000").json()["data"]
    assert groups and meetings
    assert all(g["translations"] == {} for g in groups)
    assert all(m["translations"] == {} for m in meetings)


def test_a_meeting_is_created_with_translations_and_read_back(client: TestClient) -> None:
    body = {**FUTURE, "title": "Kick-off", "translations": {**FRENCH, "zh": {"title": "启动"}}}
    created = _ok(client.post("/api/meetings", json=body, headers=AUTH))
    expected = {**FRENCH, "zh": {"title": "启动"}}
    assert created["translations"] == expected
    assert client.get(f"/api/meetings/{created['uid']}").json()["translations"] == expected
    listed = client.get(f"/api/meetings?group={WG}&start=2030-03-14").json()["data"]
    assert [m["translations"] for m in listed] == [expected]


def test_a_patch_replaces_the_translations_object_and_null_clears_it(client: TestClient) -> None:
    before = _ok(client.get(f"/api/meetings/{MEETING}"))
    first = _ok(
        client.patch(f"/api/meetings/{MEETING}", json={"translations": FRENCH}, headers=AUTH)
    )
    assert first["translations"] == FRENCH
    assert first["sequence"] == before["sequence"] + 1
    spanish = {"es": {"title": "Reunión"}}
    second = _ok(
        client.patch(f"/api/meetings/{MEETING}", json={"translations": spanish}, headers=AUTH)
    )
    assert second["translations"] == spanish  # replaced, not merged
    assert second["sequence"] == first["sequence"] + 1
    cleared = _ok(
        client.patch(f"/api/meetings/{MEETING}", json={"translations": None}, headers=AUTH)
    )
    assert cleared["translations"] == {}
    # Other fields are left as they were.
    assert {k: cleared[k] for k in ("title", "date", "start_time")} == {
        k: before[k] for k in ("title", "date", "start_time")
    }


def test_the_same_translations_again_change_nothing(client: TestClient) -> None:
    first = _ok(
        client.patch(f"/api/meetings/{MEETING}", json={"translations": FRENCH}, headers=AUTH)
    )
    again = _ok(
        client.patch(f"/api/meetings/{MEETING}", json={"translations": FRENCH}, headers=AUTH)
    )
    assert again["sequence"] == first["sequence"]
    assert again["updated_at"] == first["updated_at"]


def test_a_group_translation_is_written_and_its_name_is_a_change_for_its_meetings(
    client: TestClient,
) -> None:
    sequence = _ok(client.get(f"/api/meetings/{MEETING}"))["sequence"]
    scope = {"fr": {"scope": "Villes autonomes et connectées"}}
    group = _ok(client.patch(f"/api/groups/{WG}", json={"translations": scope}, headers=AUTH))
    assert group["translations"] == scope
    # The scope shows on pages only: the meetings' events do not change.
    assert _ok(client.get(f"/api/meetings/{MEETING}"))["sequence"] == sequence
    named = {"fr": {"name": "Villes autonomes", "scope": "Villes autonomes et connectées"}}
    group = _ok(client.patch(f"/api/groups/{WG}", json={"translations": named}, headers=AUTH))
    assert group["translations"] == named
    # The name shows in the French events of its meetings: a change their subscribers see.
    assert _ok(client.get(f"/api/meetings/{MEETING}"))["sequence"] == sequence + 1
    assert _ok(client.get(f"/api/groups/{WG}"))["translations"] == named


def test_a_group_is_created_with_translations(client: TestClient) -> None:
    body = {
        "slug": "water",
        "kind": "thematic",
        "name": "Water in cities",
        "translations": {"ar": {"name": "المياه في المدن"}, "ru": {"name": "Вода в городах"}},
    }
    created = _ok(client.post("/api/groups", json=body, headers=AUTH))
    assert created["translations"] == body["translations"]
    assert list(created["translations"]) == ["ar", "ru"]


@pytest.mark.parametrize(
    ("translations", "reason"),
    [
        ({"en": {"title": "x"}}, "English is the main field"),
        ({"de": {"title": "x"}}, "use one of ar, es, fr, ru, zh"),
        ({"fr": {"title": "t" * 201}}, "fr.title: is too long: at most 200 characters"),
        ({"fr": {"name": "x"}}, "fr.name"),
        ({"fr": {"description": "d" * 10_001}}, "fr.description: is too long"),
        ("fr", "must be an object"),
    ],
)
def test_a_wrong_translation_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, translations: object, reason: str
) -> None:
    before = client.get(f"/api/meetings/{MEETING}").json()
    response = client.patch(
        f"/api/meetings/{MEETING}", json={"translations": translations}, headers=AUTH
    )
    assert_field_error(response, "translations", reason)
    assert client.get(f"/api/meetings/{MEETING}").json() == before
    created = client.post(
        "/api/meetings", json={**FUTURE, "translations": translations}, headers=AUTH
    )
    assert_field_error(created, "translations", reason)


def test_a_group_translation_of_a_meeting_field_is_a_422(client: TestClient) -> None:
    response = client.patch(
        f"/api/groups/{WG}", json={"translations": {"fr": {"title": "x"}}}, headers=AUTH
    )
    assert_field_error(response, "translations", "fr.title")


def test_the_openapi_schema_documents_the_field_and_patch_replacing_it(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("GroupUpdate", "MeetingUpdate", "GroupPublic", "MeetingPublic"):
        field = schemas[model]["properties"]["translations"]
        assert "replaces the whole stored one" in str(field), model
    group_input = str(schemas["GroupCreate"]["properties"]["translations"])
    assert "'fr'" in group_input and "'scope'" in group_input and "'en'" not in group_input
