"""Export, import into an empty database, render: the same feeds, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import make_engine, write_session
from app.main import create_app
from app.store import exporting, seeding
from app.store.migrate import migrate
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _edit(client: TestClient) -> None:
    """A few months of secretariat work: every kind of write the feeds can show."""
    _ok(
        client.patch(
            "/api/meetings/ai-in-cities-wg2-2023-07-27",
            json={"date": "2023-11-02", "start_time": "15:00", "end_time": "16:00"},
            headers=AUTH,
        )
    )
    _ok(client.delete("/api/meetings/procurement-wg2-2023-12-21", headers=AUTH))
    _ok(
        client.patch(
            "/api/groups/ai-in-cities-wg2",
            json={"name": "Autonomous and Connected Cities", "status": "ongoing"},
            headers=AUTH,
        )
    )
    _ok(
        client.post(
            "/api/groups",
            json={
                "slug": "ai-in-cities-wg3",
                "kind": "working",
                "code": "WG3",
                "parent": "ai-in-cities",
                "name": "Generative AI",
                "leaders": [{"name": "City of Example"}, {"name": "Ada", "affiliation": "X; Y"}],
                "notes": ["Other e-meetings\nto be determined"],
                "translations": {"fr": {"name": "IA générative"}, "zh": {"scope": "范围"}},
            },
            headers=AUTH,
        )
    )
    _ok(
        client.post(
            "/api/groups", json={"slug": "water", "kind": "thematic", "name": "Water"}, headers=AUTH
        )
    )
    future = {"group": "ai-in-cities-wg3", "date": "2030-03-26", "title": "Kick-off, part 1; intro"}
    first = _ok(
        client.post(
            "/api/meetings",
            json={
                **future,
                "start_time": "10:00",
                "end_time": "11:30",
                "description": "Agenda:\n1. Welcome \\ hello\n2. Ünïcödé",
                "join_url": "https://meet.example.org/j/123?pwd=a,b",
                "translations": {"ar": {"title": "الانطلاق؛ مقدمة", "description": "جدول الأعمال"}},
            },
            headers=AUTH,
        )
    )
    _ok(client.delete(f"/api/meetings/{first['uid']}", headers=AUTH))
    _ok(client.post("/api/meetings", json={**future, "status": "tentative"}, headers=AUTH))
    _ok(
        client.post(
            "/api/meetings",
            json={
                "group": "water",
                "date": "2030-06-01",
                "start_time": "09:00",
                "end_time": "10:00",
                "timezone": "America/New_York",
            },
            headers=AUTH,
        )
    )


def _feeds(client: TestClient) -> dict[str, bytes]:
    slugs = [g["slug"] for g in client.get("/api/groups?limit=1000").json()["data"]]
    uids = [m["uid"] for m in client.get("/api/meetings?limit=1000").json()["data"]]
    urls = ["/calendar.ics", "/calendar.ics?group=digital-wellbeing&group=procurement"]
    urls += [f"/groups/{slug}/calendar.ics" for slug in slugs]
    urls += [f"/meetings/{uid}.ics" for uid in uids]
    feeds = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        feeds[url] = response.content
    return feeds


def _import(path: Path, database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with write_session(engine) as session:
            return seeding.load(session, path)
    finally:
        engine.dispose()


def _export(engine: Engine) -> str:
    with Session(engine) as session:
        return exporting.dump_yaml(exporting.export(session))


@pytest.mark.parametrize("edited", [False, True], ids=["as seeded", "after edits"])
def test_export_then_import_into_an_empty_database_renders_the_same_feeds(
    client: TestClient, engine: Engine, tmp_path: Path, edited: bool
) -> None:
    if edited:
        _edit(client)
    original = _feeds(client)
    meetings = client.get("/api/meetings?limit=1000").json()
    exported = tmp_path / "export.yaml"
    exported.write_text(_export(engine), encoding="utf-8")

    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    report = _import(exported, copy_url)
    assert len([line for line in report if line.startswith("create meeting")]) == meetings["count"]
    settings = Settings(database_url=copy_url, admin_token=ADMIN_TOKEN, public_base_url=BASE_URL)
    with TestClient(create_app(settings)) as copy:
        copied = _feeds(copy)
        assert copied.keys() == original.keys()
        for url, body in original.items():
            assert copied[url] == body, url
        assert copy.get("/api/meetings?limit=1000").json() == meetings
        for group in client.get("/api/groups?limit=1000").json()["data"]:
            mine = copy.get(f"/api/groups/{group['slug']}").json()
            assert {**mine, "updated_at": None} == {**group, "updated_at": None}


def test_an_export_imported_again_changes_nothing(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    _edit(client)
    exported = tmp_path / "export.yaml"
    exported.write_text(_export(engine), encoding="utf-8")
    feeds = _feeds(client)
    with write_session(engine) as session:
        assert seeding.load(session, exported) == []
    assert _feeds(client) == feeds


def test_an_export_of_the_copy_is_the_export_of_the_original(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    _edit(client)
    exported = _export(engine)
    (tmp_path / "export.yaml").write_text(exported, encoding="utf-8")
    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    _import(tmp_path / "export.yaml", copy_url)
    copy_engine = make_engine(copy_url)
    try:
        assert _export(copy_engine) == exported
    finally:
        copy_engine.dispose()
