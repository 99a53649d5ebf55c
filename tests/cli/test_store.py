"""Which store the command line uses: one per user whatever the folder, never a new one unasked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.core.config import get_settings
from tests.utils.server import running_servers

SCRIPT = Path(sys.executable).with_name("u4ssc-calendar")
PASSWORD = "tramway of geneva 1862"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's home with no store yet, and no DATABASE_URL: the default store is used."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("DATABASE_URL", "XDG_DATA_HOME", "SEED_FILE", "AUTO_SEED", "ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _cli(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The installed command, run in `folder` with this process's environment."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=folder,
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_user_add_in_another_folder_goes_to_the_one_store_not_a_new_one(
    home: Path, tmp_path: Path
) -> None:
    """Issue 24, point 2: `user add maria` outside the repository made and seeded a database
    under that folder's data/, and the running service never saw maria."""
    made = _cli(tmp_path / "checkout", "seed")
    assert made.returncode == 0, made.stderr
    store = home / ".local" / "share" / "u4ssc-calendar" / "u4ssc-calendar.db"
    assert store.is_file()

    added = _cli(tmp_path / "elsewhere", "user", "add", "maria", "--password-stdin", stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert not (tmp_path / "elsewhere" / "data").exists()
    listed = _cli(tmp_path / "checkout", "user", "list")
    assert listed.returncode == 0, listed.stderr
    assert "maria" in listed.stdout


def test_xdg_data_home_moves_the_default_store(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert _cli(tmp_path, "migrate").returncode == 0
    assert (tmp_path / "xdg" / "u4ssc-calendar" / "u4ssc-calendar.db").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("user", "list"),
        ("user", "add", "maria", "--password-stdin"),
        ("token", "list"),
        ("meetings", "list"),
        ("groups", "list"),
        ("outbox", "list"),
        ("export",),
    ],
)
def test_a_command_refuses_a_store_that_does_not_exist_naming_where_it_looked(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    """Issue 24, point 2: every command but serve, migrate and seed made a store where it ran."""
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main.main(list(args)) == 1
    out, err = capsys.readouterr()
    default = home / ".local" / "share" / "u4ssc-calendar" / "u4ssc-calendar.db"
    assert out == ""
    assert err.startswith(f"error: no calendar store at {default} ")
    assert "DATABASE_URL is not set" in err
    assert not default.exists() and not (tmp_path / "data").exists()

    named = tmp_path / "service.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{named}")
    get_settings.cache_clear()
    assert main.main(list(args)) == 1
    err = capsys.readouterr().err
    assert f"no calendar store at {named} (from DATABASE_URL)" in err
    assert not named.exists()


def test_an_empty_database_is_no_store_either(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    try:
        assert main.main(["user", "list"]) == 1
        assert "no calendar store at " in capsys.readouterr().err
        assert main.main(["migrate"]) == 0
        assert main.main(["user", "list"]) == 0
    finally:
        get_settings.cache_clear()


def test_serve_says_which_store_it_uses(home: Path, tmp_path: Path) -> None:
    """Issue 24, point 2: serve said nothing of where its data was."""
    store = home / ".local" / "share" / "u4ssc-calendar" / "u4ssc-calendar.db"
    env = {"HOME": str(home), "DATABASE_URL": None, "XDG_DATA_HOME": None}
    with running_servers(env, tmp_path) as [server]:
        pass
    assert f"store {store} (the default: DATABASE_URL is not set)" in server.output()
    assert store.is_file()
