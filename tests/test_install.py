"""The package as anyone installs it: a wheel built from the sdist, in a fresh venv holding the
locked dependencies, `u4ssc-calendar serve` from an empty folder on an empty SQLite file; and
every environment compared with uv.lock (scripts/check_lock.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
import yaml

from app.store import seeding
from tests.utils.feeds import UID_DOMAIN
from tests.utils.server import ROOT, Server, free_port, wait_until_up

UV = ROOT / "scripts" / "uv"
LOCK = ROOT / "uv.lock"
CHECK_LOCK = ROOT / "scripts" / "check_lock.py"
SEED = Path("seed") / "action-plan.yaml"  # in the checkout and the sdist
PACKAGED_SEED = "app/seed/action-plan.yaml"  # in the wheel


def _run(*command: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout + result.stderr


def _outside_env(**settings: str) -> dict[str, str]:
    """This environment without what would point a process back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **settings}


def _plan_uids() -> set[str]:
    plan: dict[str, Any] = yaml.safe_load((ROOT / SEED).read_text(encoding="utf-8"))
    uids = set()
    for thematic in plan["thematic_groups"]:
        for group in [thematic, *thematic.get("working_groups", [])]:
            uids |= {meeting["uid"] for meeting in group.get("meetings", [])}
    return uids


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`uv build`: the sdist, then the wheel built from that sdist (not from the checkout)."""
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--quiet", "--out-dir", out, ROOT)
    (sdist,) = out.glob("u4ssc_calendar-*.tar.gz")
    (wheel,) = out.glob("u4ssc_calendar-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_the_seed_is_one_file_carried_by_the_sdist_and_the_wheel(dist: dict[str, Path]) -> None:
    assert seeding.bundled_seed() == ROOT / SEED
    assert not (ROOT / "app" / "seed").exists()
    expected = (ROOT / SEED).read_bytes()
    with tarfile.open(dist["sdist"]) as sdist:
        (member,) = [m for m in sdist.getmembers() if m.name.endswith("/" + SEED.as_posix())]
        carried = sdist.extractfile(member)
        assert carried is not None and carried.read() == expected
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        assert wheel.read(PACKAGED_SEED) == expected
        assert not [name for name in wheel.namelist() if name.startswith("tests/")]


def test_the_wheel_carries_every_compiled_catalog(dist: dict[str, Path]) -> None:
    """The .mo files the service loads (issue 26), the checkout's own bytes, in the wheel."""
    locale = ROOT / "app" / "i18n" / "locale"
    compiled = sorted(locale.glob("*/LC_MESSAGES/messages.mo"))
    assert [path.parts[-3] for path in compiled] == ["ar", "es", "fr", "ru", "zh"]
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        for path in compiled:
            name = path.relative_to(ROOT).as_posix()
            assert wheel.read(name) == path.read_bytes(), name


def test_the_wheel_serves_the_whole_plan_from_an_empty_folder(
    dist: dict[str, Path], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    export = ["--locked", "--offline", "--no-dev", "--no-emit-project", "--quiet"]
    _run(UV, "export", *export, "--output-file", requirements)
    install: list[str | Path] = ["pip", "install", "--quiet", "--python", python]
    _run(UV, *install, "--require-hashes", "-r", requirements)
    _run(UV, *install, "--no-deps", dist["wheel"])
    assert "as in uv.lock" in _run(python, CHECK_LOCK, "--lock", LOCK)

    empty = tmp_path / "empty"
    empty.mkdir()
    database = empty / "calendar.db"
    database.touch()  # an empty SQLite file, as an operator might hand over
    env = _outside_env(DATABASE_URL=f"sqlite:///{database}")
    where = _run(
        python,
        "-c",
        "from app.store import seeding; print(seeding.bundled_seed())",
        cwd=empty,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(venv), where  # the wheel's copy, not the checkout's

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [venv / "bin" / "u4ssc-calendar", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=empty,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_up(server)
        response = httpx.get(server.url + "/calendar.ics", timeout=30)
        assert response.status_code == 200, response.text
        events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        uids = {str(event["UID"]) for event in events}
        assert len(events) == len(uids) == 18
        assert uids == {f"{uid}@{UID_DOMAIN}" for uid in _plan_uids()}
        # In French from the wheel's own catalog: the same events, French words.
        french = httpx.get(server.url + "/calendar.ics?lang=fr", timeout=30)
        assert french.status_code == 200, french.text
        calendar = icalendar.Calendar.from_ical(french.content)
        assert str(calendar["X-WR-CALNAME"]) == "Réunions de l'U4SSC"
        events = calendar.walk("VEVENT")
        assert {str(event["UID"]) for event in events} == uids
        assert all(str(event["LOCATION"]) == "En ligne" for event in events)
        descriptions = [str(event["DESCRIPTION"]) for event in events]
        assert all("Groupe thématique\u00a0: " in text for text in descriptions)
        assert any("Heure\u00a0: " in text for text in descriptions)
        assert french.headers["etag"] != response.headers["etag"]
    finally:
        assert server.stop() == 0, server.output()
    assert database.stat().st_size > 0
    assert sorted(p.name for p in empty.iterdir() if not p.name.startswith("calendar.db")) == []


def test_this_environment_is_the_lock() -> None:
    """The tests run in the venv that scripts/test.sh synced: the lock's versions, dev extras."""
    assert "as in uv.lock" in _run(sys.executable, CHECK_LOCK, "--lock", LOCK, "--extra", "dev")


def test_the_lock_matches_pyproject() -> None:
    _run(UV, "lock", "--check", "--offline")


def test_a_version_other_than_the_lock_is_named(tmp_path: Path) -> None:
    locked = LOCK.read_text(encoding="utf-8")
    drifted = re.sub(r'(name = "pytz"\nversion = ")[^"]+"', r'\g<1>1999.1"', locked, count=1)
    assert drifted != locked
    (tmp_path / "uv.lock").write_text(drifted, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECK_LOCK), "--lock", str(tmp_path / "uv.lock")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "pytz: " in result.stderr and "the lock has 1999.1" in result.stderr


def test_the_image_and_the_scripts_install_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "uv export --locked" in dockerfile and "--require-hashes" in dockerfile
    assert "scripts/check_lock.py" in dockerfile
    # The wheel is built from seed/ and carries it; the runtime copies no seed of its own.
    build, _, runtime = dockerfile.partition(" AS runtime")
    assert "COPY seed/ seed/" in build and "seed" not in runtime
    for script in ("run.sh", "test.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        assert "scripts/uv sync --locked" in text and "scripts/check_lock.py" in text
        assert "pip install" not in text
