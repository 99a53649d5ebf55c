"""The command line as one tool: --version, one verb set for users, tokens and webhooks, lists
with a header or JSON, dates refused in plain words, --announce saying what it reads."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from app.cli import main
from app.core.config import get_settings
from tests.cli.test_cli import ok, run

SCRIPT = Path(sys.executable).with_name("u4ssc-calendar")
LISTS = [
    ("user", "list"),
    ("token", "list"),
    ("webhook", "list"),
    ("outbox", "list"),
    ("meetings", "list"),
    ("groups", "list"),
]


@pytest.fixture
def filled(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The seeded store with one of each: a user, a token, a webhook and a message for it."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long pass phrase for tests\n"))
    ok(capsys, "user", "add", "maria", "--password-stdin")
    ok(capsys, "token", "add", "laptop")
    ok(capsys, "webhook", "add", "http://127.0.0.1:9/hook")
    ok(capsys, "meetings", "add", "--group", "digital-wellbeing", "--date", "2030-01-09")
    return database


def test_version_is_printed() -> None:
    """Issue 24, point 13: `u4ssc-calendar --version` was an error."""
    done = subprocess.run(
        [str(SCRIPT), "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout) == (
        0,
        f"u4ssc-calendar {metadata.version('u4ssc-calendar')}\n",
    )


@pytest.mark.parametrize("resource", ["user", "token", "webhook"])
def test_users_tokens_and_webhooks_take_the_same_five_verbs(resource: str) -> None:
    """Issue 24, point 13: `user disable`, `token revoke`, `webhook remove`; no `user enable`."""
    parser = main.build_parser()
    key = "1" if resource == "webhook" else "someone"
    for verb in ("list", "remove", "enable", "disable"):
        args = parser.parse_args([resource, verb] + ([] if verb == "list" else [key]))
        assert callable(args.handler), (resource, verb)
    assert callable(parser.parse_args([resource, "add", "https://example.org/h"]).handler)


def test_disable_and_enable_act_on_users_tokens_and_webhooks(
    filled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(capsys, "user", "disable", "maria")
    assert "maria\t" in ok(capsys, "user", "list") and "disabled" in ok(capsys, "user", "list")
    ok(capsys, "user", "enable", "maria")
    assert "disabled" not in ok(capsys, "user", "list")
    ok(capsys, "user", "remove", "maria")
    assert "maria" not in ok(capsys, "user", "list")

    ok(capsys, "webhook", "disable", "1")
    before = json.loads(ok(capsys, "outbox", "list", "--json"))
    ok(capsys, "meetings", "add", "--group", "digital-wellbeing", "--date", "2030-01-10")
    assert json.loads(ok(capsys, "outbox", "list", "--json")) == before  # nothing for it
    assert json.loads(ok(capsys, "webhook", "list", "--json"))[0]["state"] == "disabled"
    ok(capsys, "webhook", "enable", "1")
    ok(capsys, "meetings", "add", "--group", "digital-wellbeing", "--date", "2030-01-11")
    assert len(json.loads(ok(capsys, "outbox", "list", "--json"))) == len(before) + 1
    code, _, err = run(capsys, "webhook", "disable", "99")
    assert code == 1 and "no webhook 99" in err


@pytest.mark.parametrize("command", LISTS, ids=[" ".join(c) for c in LISTS])
def test_every_list_prints_a_header_and_takes_json(
    filled: str, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """Issue 24, point 13: `outbox list` and `meetings list` printed rows with no header."""
    table = ok(capsys, *command).splitlines()
    header = table[0].split("\t")
    assert all(name == name.upper() and name.isidentifier() for name in header), table[0]
    assert len(table) >= 2
    assert all(len(row.split("\t")) == len(header) for row in table[1:])
    rows = json.loads(ok(capsys, *command, "--json"))
    assert isinstance(rows, list) and len(rows) == len(table) - 1
    assert [name.upper() for name in rows[0]] == header


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2027-06-31", "2027-06-31 is not a date: June has 30 days"),
        ("2027-02-29", "2027-02-29 is not a date: February 2027 has 28 days"),
        ("2027-13-01", "there is no month 13"),
        ("27-06-2027", "write it as YYYY-MM-DD"),
    ],
)
def test_a_date_that_does_not_exist_names_the_day(
    capsys: pytest.CaptureFixture[str], day: str, reason: str
) -> None:
    """Issue 24, point 13: `--date 2027-06-31` said "is not a date YYYY-MM-DD"."""
    with pytest.raises(SystemExit) as exit_info:
        main.main(["meetings", "add", "--group", "digital-wellbeing", "--date", day])
    assert exit_info.value.code == 2
    assert reason in capsys.readouterr().err
    assert main.build_parser().parse_args(["meetings", "list", "--from", "2028-02-29"]).start


def test_announce_help_names_the_settings_it_reads(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24, point 13: --announce needed SMTP settings in the command's environment, unsaid."""
    for verb in ("add", "move", "cancel"):
        with pytest.raises(SystemExit):
            main.main(["meetings", verb, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for setting in ("SMTP_URL", "ANNOUNCE_TO", "MAIL_FROM", "this command's own environment"):
            assert setting in text, (verb, setting)


def test_announce_without_the_settings_stops_naming_them(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SMTP_URL", "ANNOUNCE_TO"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    code, _, err = run(
        capsys,
        "meetings",
        "add",
        "--group",
        "digital-wellbeing",
        "--date",
        "2030-01-09",
        "--announce",
    )
    assert code == 1 and "SMTP_URL" in err and "ANNOUNCE_TO" in err
    assert "2030-01-09" not in ok(capsys, "meetings", "list", "--from", "2030-01-01")  # unwritten
