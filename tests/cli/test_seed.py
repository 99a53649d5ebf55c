"""`u4ssc-calendar seed` and edits since: shown and kept unless --force, never undone silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app.store import seeding
from tests.cli.test_cli import MEETING, api, bearer, ok

GROUP = "ai-in-cities-wg2"


def _plan_with(tmp_path: Path, **changes: str) -> Path:
    """The bundled plan with some fields of GROUP changed, as a file to seed from."""
    plan = yaml.safe_load(seeding.bundled_seed().read_text(encoding="utf-8"))
    for thematic in plan["thematic_groups"]:
        for group in [thematic, *thematic.get("working_groups", [])]:
            if group["slug"] == GROUP:
                group.update(changes)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_seed_keeps_console_edits_to_a_group_and_says_so(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 24, point 14: the dry run showed "would update group ai-in-cities-wg2: status,
    status_note, leaders", and seed then undid the edits without a word."""
    token = ok(capsys, "token", "add", "secretariat").strip()
    leaders = [{"name": "Jane Doe", "affiliation": "ITU"}]
    edit = {"status": "ongoing", "status_note": "Kicked off", "leaders": leaders}
    with api(database) as client:
        response = client.patch(f"/api/groups/{GROUP}", json=edit, headers=bearer(token))
        assert response.status_code == 200, response.text

    dry = ok(capsys, "seed", "--dry-run")
    assert f"would update group {GROUP}" not in dry
    assert (
        f"would keep group {GROUP}: status, status_note, leaders (edited by secretariat on " in dry
    )
    assert "--force writes the file's values over them" in dry
    assert dry.strip().endswith("0 change(s), 1 edited record(s) kept (dry run: nothing written)")

    applied = ok(capsys, "seed")
    assert f"keep group {GROUP}: status, status_note, leaders" in applied
    with api(database) as client:
        group = client.get(f"/api/groups/{GROUP}").json()
    assert (group["status"], group["status_note"], group["leaders"]) == (
        "ongoing",
        "Kicked off",
        leaders,
    )

    forced = ok(capsys, "seed", "--force")
    assert f"update group {GROUP}: status, status_note, leaders" in forced
    with api(database) as client:
        assert client.get(f"/api/groups/{GROUP}").json()["status"] != "ongoing"
    assert ok(capsys, "seed").strip() == "0 change(s)"  # the seed wrote them last


def test_seed_applies_the_files_other_changes_beside_a_kept_edit(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ok(capsys, "groups", "set-status", GROUP, "ongoing")
    ok(capsys, "meetings", "move", MEETING, "--start", "15:00", "--end", "16:00")
    plan = _plan_with(tmp_path, status="completed", name="AI in Cities, renamed")

    out = ok(capsys, "seed", str(plan))
    assert f"update group {GROUP}: name" in out
    assert f"keep group {GROUP}: status (edited by cli:" in out
    assert f"keep meeting {MEETING}: start_time, end_time (edited by cli:" in out
    group_line = next(line for line in ok(capsys, "groups", "list").splitlines() if GROUP in line)
    assert group_line.split("\t")[2:] == ["ongoing", "AI in Cities, renamed"]
    moved = json.loads(ok(capsys, "meetings", "list", "--json", "--group", GROUP))
    assert [(m["start"], m["end"]) for m in moved if m["uid"] == MEETING] == [("15:00", "16:00")]
