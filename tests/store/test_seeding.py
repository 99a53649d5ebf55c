"""Syncing the store to a seed file: idempotent, all or nothing, dropped meetings cancelled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.core.db import current_revision, write_session
from app.models import Change
from app.store import exporting, seeding
from tests.conftest import AUTH

MOVED = "ai-in-cities-wg2-2023-07-27"
DROPPED = "procurement-wg2-2023-12-21"


def _plan() -> dict[str, Any]:
    plan: dict[str, Any] = yaml.safe_load(seeding.bundled_seed().read_text(encoding="utf-8"))
    return plan


def _groups(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for thematic in plan["thematic_groups"]:
        found.append(thematic)
        found.extend(thematic.get("working_groups", []))
    return found


def _group(plan: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(g for g in _groups(plan) if g["slug"] == slug)


def _write(tmp_path: Path, plan: dict[str, Any], name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _edited(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with one meeting moved, one dropped, one added and a group moved on."""
    wg2 = _group(plan, "ai-in-cities-wg2")
    moved = next(m for m in wg2["meetings"] if m["uid"] == MOVED)
    moved.update(date="2023-11-02", start_time="15:00", end_time="16:00")
    wg2["status"] = "ongoing"
    procurement = _group(plan, "procurement-wg2")
    procurement["meetings"] = [m for m in procurement["meetings"] if m["uid"] != DROPPED]
    procurement["meetings"].append({"uid": "procurement-wg2-2024-01-18", "date": "2024-01-18"})
    return plan


def _load(engine: Engine, path: Path | None = None, *, dry_run: bool = False) -> list[str]:
    with write_session(engine) as session:
        return seeding.load(session, path, dry_run=dry_run)


def _state(engine: Engine) -> tuple[int, int, str]:
    with Session(engine) as session:
        changes = session.exec(select(func.count()).select_from(Change)).one()
        return current_revision(session), changes, exporting.dump_yaml(exporting.export(session))


def test_loading_the_same_plan_again_changes_nothing(client: TestClient, engine: Engine) -> None:
    before = _state(engine)
    feed = client.get("/calendar.ics").content
    assert _load(engine) == []
    assert _state(engine) == before
    assert client.get("/calendar.ics").content == feed


def test_an_edited_plan_updates_cancels_and_adds(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    dropped_before = client.get(f"/api/meetings/{DROPPED}").json()
    report = _load(engine, _write(tmp_path, _edited(_plan())))
    assert sorted(report) == sorted(
        [
            "update group ai-in-cities-wg2: status",
            f"update meeting {MOVED}",
            "create meeting procurement-wg2-2024-01-18",
            f"cancel meeting {DROPPED} (no longer in the file)",
        ]
    )
    moved = client.get(f"/api/meetings/{MOVED}").json()
    assert (moved["start"], moved["sequence"]) == ("2023-11-02T15:00:00+01:00", 1)
    dropped = client.get(f"/api/meetings/{DROPPED}").json()
    assert dropped["status"] == "cancelled"
    assert dropped["sequence"] == dropped_before["sequence"] + 1
    assert client.get("/api/meetings/procurement-wg2-2024-01-18").json()["all_day"] is True
    assert client.get("/api/groups/ai-in-cities-wg2").json()["status"] == "ongoing"
    actors = {c["actor"] for c in client.get("/api/changes", headers=AUTH).json()["data"][:4]}
    assert actors == {"seed"}
    # And once more: nothing left to do.
    assert _load(engine, _write(tmp_path, _edited(_plan()), "again.yaml")) == []


def test_a_dry_run_reports_and_writes_nothing(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    before = _state(engine)
    feed = client.get("/calendar.ics").content
    path = _write(tmp_path, _edited(_plan()))
    report = _load(engine, path, dry_run=True)
    assert len(report) == 4
    assert _state(engine) == before
    assert client.get("/calendar.ics").content == feed
    assert _load(engine, path) == report


def test_a_meeting_put_back_in_the_file_is_restored_as_an_update(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    _load(engine, _write(tmp_path, _edited(_plan())))
    report = _load(engine, _write(tmp_path, _plan(), "original.yaml"))
    assert f"update meeting {DROPPED}" in report
    restored = client.get(f"/api/meetings/{DROPPED}").json()
    assert (restored["status"], restored["sequence"]) == ("confirmed", 2)


def test_meetings_added_through_the_api_survive_a_seed(client: TestClient, engine: Engine) -> None:
    body = {"group": "digital-wellbeing", "date": "2030-02-02"}
    uid = client.post("/api/meetings", json=body, headers=AUTH).json()["uid"]
    assert _load(engine) == []
    assert client.get(f"/api/meetings/{uid}").json()["status"] == "confirmed"


def _unquoted_time(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("start_time: '16:00'", "start_time: 16:00", 1), encoding="utf-8")


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "time in the spring-forward gap",
        lambda plan: _group(plan, "ai-in-cities-wg2")["meetings"][0].update(
            date="2024-03-31", start_time="02:30", end_time="03:30"
        ),
        "does not exist",
    ),
    (
        "duplicate uid",
        lambda plan: _group(plan, "digital-wellbeing")["meetings"].append(
            {"uid": MOVED, "date": "2024-01-01"}
        ),
        "appears twice",
    ),
    (
        "unknown status",
        lambda plan: _group(plan, "ai-in-cities-wg2").update(status="paused"),
        "status",
    ),
    (
        "unknown zone",
        lambda plan: _group(plan, "ai-in-cities-wg2")["meetings"][0].update(
            timezone="Europe/Geneva"
        ),
        "Europe/Geneva",
    ),
    (
        "unknown field",
        lambda plan: _group(plan, "ai-in-cities-wg2").update(colour="blue"),
        "colour",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "reason"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_a_broken_file_is_refused_whole(
    engine: Engine, tmp_path: Path, breakage: Callable[[dict[str, Any]], None], reason: str
) -> None:
    before = _state(engine)
    plan = _edited(_plan())
    breakage(plan)
    with pytest.raises(seeding.SeedError, match=reason):
        _load(engine, _write(tmp_path, plan))
    assert _state(engine) == before


def test_an_unquoted_time_is_refused_with_advice(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, _plan())
    _unquoted_time(path)
    assert "start_time: 16:00" in path.read_text(encoding="utf-8")
    with pytest.raises(seeding.SeedError, match="quoted"):
        _load(engine, path)


def test_an_unreadable_file_is_a_seed_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(seeding.SeedError, match="cannot read"):
        _load(engine, tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("thematic_groups: [\n", encoding="utf-8")
    with pytest.raises(seeding.SeedError, match="cannot read"):
        _load(engine, tmp_path / "bad.yaml")


def test_the_plan_carries_translations_and_keeps_those_people_wrote_unless_forced(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    plan = _plan()
    wg2 = _group(plan, "ai-in-cities-wg2")
    wg2["translations"] = {"fr": {"name": "Villes autonomes"}}
    wg2["meetings"][0]["translations"] = {"es": {"title": "Reunión", "description": ""}}
    path = _write(tmp_path, plan)
    assert sorted(_load(engine, path)) == [
        "update group ai-in-cities-wg2: translations",
        f"update meeting {MOVED}",
    ]
    group = client.get("/api/groups/ai-in-cities-wg2").json()
    assert group["translations"] == {"fr": {"name": "Villes autonomes"}}
    meeting = client.get(f"/api/meetings/{MOVED}").json()
    assert meeting["translations"] == {"es": {"title": "Reunión"}}
    assert _load(engine, path) == []  # loaded again: nothing to do

    # The secretariat translates the group into Chinese; the file does not know it.
    mine = {"zh": {"name": "自主城市"}}
    response = client.patch(
        "/api/groups/ai-in-cities-wg2", json={"translations": mine}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    with write_session(engine) as session:
        report = seeding.load(session, path)
    assert report == []
    assert report.kept == [
        "keep group ai-in-cities-wg2: translations (edited by admin on "
        + report.kept[0].split(" on ", 1)[1]
    ]
    assert client.get("/api/groups/ai-in-cities-wg2").json()["translations"] == mine
    with write_session(engine) as session:
        forced = seeding.load(session, path, force=True)
    assert forced == ["update group ai-in-cities-wg2: translations"]
    assert client.get("/api/groups/ai-in-cities-wg2").json()["translations"] == {
        "fr": {"name": "Villes autonomes"}
    }
