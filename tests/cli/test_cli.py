"""The `u4ssc-calendar` command line, run against a real SQLite file and checked through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from app.cli import main
from app.core.config import Settings, get_settings
from app.main import create_app
from tests.conftest import BASE_URL
from tests.utils.errors import assert_error

MEETING = "ai-in-cities-wg2-2023-07-27"
DROPPED = "procurement-wg2-2023-12-21"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert code == 0, (args, out, err)
    return out


def api(database: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=database, public_base_url=BASE_URL)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- tokens -----------------------------------------------------------------------------------


def test_token_add_prints_it_once_and_it_writes_until_disabled(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "token", "add", "secretariat-laptop")
    assert code == 0, err
    token = out.strip()
    assert out == token + "\n" and len(token) >= 32
    assert "shown only now" in err and token not in err

    listing = ok(capsys, "token", "list")
    assert "secretariat-laptop" in listing and "active" in listing
    assert token not in listing

    with api(database) as client:
        body = {"group": "digital-wellbeing", "date": "2030-04-04", "title": "From the API"}
        created = client.post("/api/meetings", json=body, headers=bearer(token))
        assert created.status_code == 201, created.text
        changes = client.get("/api/changes", headers=bearer(token)).json()["data"]
        assert changes[0]["actor"] == "secretariat-laptop"

        assert "disabled" in ok(capsys, "token", "disable", "secretariat-laptop")
        refused = client.post("/api/meetings", json=body, headers=bearer(token))
        assert_error(refused, 401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "enabled" in ok(capsys, "token", "enable", "secretariat-laptop")
        again = client.post("/api/meetings", json=body, headers=bearer(token))
        assert again.status_code == 201, again.text
        ok(capsys, "token", "revoke", "secretariat-laptop")  # the older name of disable
        assert_error(client.post("/api/meetings", json=body, headers=bearer(token)), 401)
    assert "disabled" in ok(capsys, "token", "list")
    assert "removed" in ok(capsys, "token", "remove", "secretariat-laptop")
    assert "secretariat-laptop" not in ok(capsys, "token", "list")
    assert token not in ok(capsys, "changes", "--limit", "1000")


def test_token_errors_are_one_line_and_exit_1(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(capsys, "token", "create", "clerk")
    for args, reason in [
        (("token", "create", "clerk"), "is active"),
        (("token", "create", "admin"), "ADMIN_TOKEN"),
        (("token", "create", "two words"), "letters"),
        (("token", "disable", "nobody"), "no active token"),
        (("token", "enable", "clerk"), "no disabled token"),
        (("token", "remove", "nobody"), "no token"),
    ]:
        code, out, err = run(capsys, *args)
        assert (code, out) == (1, ""), args
        assert err.startswith("error: ") and reason in err, (args, err)
    ok(capsys, "token", "disable", "clerk")
    assert run(capsys, "token", "disable", "clerk")[0] == 1
    assert len(ok(capsys, "token", "add", "clerk").strip()) >= 32


def test_the_console_script_adds_a_token(database: str, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("u4ssc-calendar")
    env = {**os.environ, "DATABASE_URL": database}
    env.pop("ADMIN_TOKEN", None)
    done = subprocess.run(
        [str(script), "token", "add", "ops"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n"
    with api(database) as client:
        response = client.get("/api/changes", headers=bearer(token))
        assert response.status_code == 200, response.text


# --- meetings and groups ------------------------------------------------------------------------


def _line(out: str) -> list[str]:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return lines[0].split("\t")


def test_meetings_add_move_cancel_list_purge(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    added = _line(
        ok(
            capsys,
            "meetings",
            "add",
            "--group",
            "ai-in-cities-wg2",
            "--date",
            "2030-03-14",
            "--start",
            "15:00",
            "--end",
            "16:30",
            "--title",
            "Kick-off",
        )
    )
    uid = added[0]
    assert added[1:] == [
        "2030-03-14 15:00-16:30 Europe/Zurich",
        "confirmed",
        "seq 0",
        "ai-in-cities-wg2",
    ]
    assert uid in ok(capsys, "meetings", "list", "--group", "ai-in-cities")

    moved = _line(
        ok(
            capsys,
            "meetings",
            "move",
            uid,
            "--date",
            "2030-04-03",
            "--start",
            "10:00",
            "--end",
            "11:00",
        )
    )
    assert moved[1:4] == ["2030-04-03 10:00-11:00 Europe/Zurich", "confirmed", "seq 1"]

    cancelled = _line(ok(capsys, "meetings", "cancel", uid))
    assert cancelled[2:4] == ["cancelled", "seq 2"]
    assert _line(ok(capsys, "meetings", "cancel", uid))[2:4] == ["cancelled", "seq 2"]

    with api(database) as client:
        meeting = client.get(f"/api/meetings/{uid}").json()
        assert (meeting["start"], meeting["status"], meeting["sequence"], meeting["title"]) == (
            "2030-04-03T10:00:00+02:00",
            "cancelled",
            2,
            "Kick-off",
        )
        ics = client.get(f"/meetings/{uid}.ics").text
        assert "STATUS:CANCELLED" in ics and "SEQUENCE:2" in ics

    listing = ok(capsys, "meetings", "list", "--from", "2030-01-01")
    assert [row.split("\t")[0] for row in listing.strip().splitlines()] == ["UID", uid]

    assert "removed for good" in ok(capsys, "meetings", "purge", uid)
    assert uid not in ok(capsys, "meetings", "list")
    with api(database) as client:
        assert_error(client.get(f"/api/meetings/{uid}"), 404)
    code, _, err = run(capsys, "meetings", "purge", uid)
    assert code == 1 and "no meeting" in err

    actions = [json.loads(line)["action"] for line in ok(capsys, "changes").splitlines()[:4]]
    assert actions == ["purge", "cancel", "update", "create"]


def test_meetings_move_to_all_day_and_back(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _line(ok(capsys, "meetings", "move", MEETING, "--all-day"))[1] == "2023-07-27"
    back = _line(ok(capsys, "meetings", "move", MEETING, "--start", "16:00", "--end", "17:00"))
    assert back[1:4] == ["2023-07-27 16:00-17:00 Europe/Zurich", "confirmed", "seq 2"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("add", "--group", "no-such-group", "--date", "2030-01-01"), "no group"),
        (
            (
                "add",
                "--group",
                "digital-wellbeing",
                "--date",
                "2024-03-31",
                "--start",
                "02:30",
                "--end",
                "03:30",
            ),
            "start_time",
        ),
        (
            ("add", "--group", "digital-wellbeing", "--date", "2030-01-01", "--start", "10:00"),
            "end_time",
        ),
        (
            (
                "add",
                "--group",
                "digital-wellbeing",
                "--date",
                "2030-01-01",
                "--timezone",
                "Europe/Geneva",
            ),
            "Europe/Zurich",
        ),
        (
            ("add", "--group", "digital-wellbeing", "--date", "2030-01-01", "--title", "a\u0007b"),
            "title",
        ),
        (("move", MEETING, "--end", "15:00"), "end_time"),
        (("move", "no-such-meeting", "--title", "x"), "no meeting"),
        (("cancel", "no-such-meeting"), "no meeting"),
        (("move", MEETING), "say what changes"),
    ],
)
def test_bad_meeting_commands_exit_1_naming_the_problem(
    database: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], reason: str
) -> None:
    code, out, err = run(capsys, "meetings", *args)
    assert code == 1, (out, err)
    assert err.startswith("error: ") and reason in err, err
    assert "Traceback" not in err and "input:" not in err


def test_a_date_that_does_not_exist_is_refused_by_the_parser(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main.main(["meetings", "add", "--group", "digital-wellbeing", "--date", "2023-02-30"])
    assert exit_info.value.code == 2
    assert "2023-02-30" in capsys.readouterr().err


def test_groups_set_status(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = ok(capsys, "groups", "set-status", "ai-in-cities-wg2", "ongoing", "--note", "Kicked off")
    assert out.strip().split("\t") == ["ai-in-cities-wg2", "ongoing", "Kicked off"]
    assert "  ai-in-cities-wg2\tai-in-cities\tongoing\t" in ok(capsys, "groups", "list")
    with api(database) as client:
        group = client.get("/api/groups/ai-in-cities-wg2").json()
        assert (group["status"], group["status_note"]) == ("ongoing", "Kicked off")
    out = ok(capsys, "groups", "set-status", "ai-in-cities-wg2", "completed", "--note", "")
    assert out.strip().split("\t") == ["ai-in-cities-wg2", "completed"]
    change = json.loads(ok(capsys, "changes", "--limit", "1"))
    assert change["before"]["status"] == "ongoing" and change["after"]["status"] == "completed"
    assert change["actor"].startswith("cli")
    code, _, err = run(capsys, "groups", "set-status", "no-such-group", "ongoing")
    assert code == 1 and "no group" in err
    with pytest.raises(SystemExit):
        main.main(["groups", "set-status", "ai-in-cities-wg2", "paused"])


# --- seed, export, import -----------------------------------------------------------------------


def test_seed_dry_run_then_seed_then_seed_again(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    exported = tmp_path / "plan.yaml"
    ok(capsys, "export", "-o", str(exported))
    plan = yaml.safe_load(exported.read_text(encoding="utf-8"))
    procurement = next(t for t in plan["thematic_groups"] if t["slug"] == "procurement")
    wg2 = next(w for w in procurement["working_groups"] if w["slug"] == "procurement-wg2")
    wg2["meetings"] = [m for m in wg2["meetings"] if m["uid"] != DROPPED]
    wg2["status"] = "completed"
    exported.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")

    before = ok(capsys, "export")
    dry = ok(capsys, "seed", str(exported), "--dry-run")
    assert f"would cancel meeting {DROPPED} (no longer in the file)" in dry
    assert "would update group procurement-wg2: status" in dry
    assert "2 change(s) (dry run: nothing written)" in dry
    assert ok(capsys, "export") == before

    applied = ok(capsys, "seed", str(exported))
    assert f"cancel meeting {DROPPED}" in applied and "would" not in applied
    with api(database) as client:
        dropped = client.get(f"/api/meetings/{DROPPED}").json()
        assert (dropped["status"], dropped["sequence"]) == ("cancelled", 1)
    assert ok(capsys, "seed", str(exported)).strip() == "0 change(s)"
    assert ok(capsys, "seed", str(exported), "--dry-run").strip().startswith("0 change(s)")


def test_seed_of_a_broken_file_exits_1_and_writes_nothing(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = ok(capsys, "export")
    broken = tmp_path / "broken.yaml"
    broken.write_text(before.replace("status: ongoing", "status: paused", 1), encoding="utf-8")
    code, _, err = run(capsys, "seed", str(broken))
    assert code == 1 and "status" in err
    assert ok(capsys, "export") == before


def test_export_then_import_into_an_empty_database(
    database: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok(capsys, "meetings", "move", MEETING, "--start", "15:00", "--end", "16:00")
    ok(capsys, "meetings", "add", "--group", "digital-wellbeing", "--date", "2030-01-09")
    exported = tmp_path / "export.yaml"
    ok(capsys, "export", "-o", str(exported))
    with api(database) as client:
        feed = client.get("/calendar.ics").content

    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("DATABASE_URL", copy)
    get_settings.cache_clear()
    out = ok(capsys, "import", str(exported))
    assert "create meeting" in out
    assert ok(capsys, "export") == exported.read_text(encoding="utf-8")
    with api(copy) as client:
        assert client.get("/calendar.ics").content == feed
    assert ok(capsys, "import", str(exported)).strip() == "0 change(s)"


def test_a_reader_that_stops_early_is_not_an_error(database: str) -> None:
    """`u4ssc-calendar changes | head`: the pipe closes before the command writes."""
    script = Path(sys.executable).with_name("u4ssc-calendar")
    env = {**os.environ, "DATABASE_URL": database}
    process = subprocess.Popen(
        [str(script), "changes", "--limit", "1000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, err
    assert "error" not in err and "Traceback" not in err
