"""Console accounts: `u4ssc-calendar user ...` on a real database (SQLite file, or PostgreSQL
with TEST_DATABASE_URL), argon2id hashes, passwords never printed, and the sign-in throttle."""

from __future__ import annotations

import getpass
import io
import logging
import sys
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from app.auth import accounts
from app.cli import main
from app.core.config import get_settings
from app.core.db import make_engine
from app.models import ConsoleSession, User

PASSWORD = "tramway of geneva 1862"


@pytest.fixture
def database(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("AUTO_SEED", "false")
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main.main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def _users(url: str) -> list[User]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(User)).all())
    finally:
        engine.dispose()


def test_user_commands_keep_only_an_argon2id_hash_and_never_print_the_password(
    database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out = run(
        capsys, monkeypatch, "user", "add", "maria", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, out
    (user,) = _users(database)
    assert user.name == "maria" and not user.disabled
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash

    code, again = run(
        capsys,
        monkeypatch,
        "user",
        "add",
        "maria",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert code == 1 and "exists already" in again
    code, short = run(
        capsys, monkeypatch, "user", "add", "pia", "--password-stdin", stdin="short\n"
    )
    assert code == 1 and "at least 12 characters" in short
    code, bad = run(
        capsys, monkeypatch, "user", "add", "no spaces", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 1 and "user name" in bad

    code, listed = run(capsys, monkeypatch, "user", "list")
    assert code == 0 and listed.startswith("maria\tcreated ") and "active" in listed

    engine = make_engine(database)
    try:
        with Session(engine) as session:
            assert accounts.check_password(session, "maria", PASSWORD) is not None
            user = session.exec(select(User)).one()
            accounts.start_session(session, user)
        code, changed = run(
            capsys,
            monkeypatch,
            "user",
            "passwd",
            "maria",
            "--password-stdin",
            stdin="a brand new pass phrase\n",
        )
        assert code == 0, changed
        with Session(engine) as session:
            assert accounts.check_password(session, "maria", PASSWORD) is None
            assert accounts.check_password(session, "maria", "a brand new pass phrase")
            assert session.exec(select(ConsoleSession)).all() == []
            accounts.start_session(session, session.exec(select(User)).one())
        code, disabled = run(capsys, monkeypatch, "user", "disable", "maria")
        assert code == 0, disabled
        with Session(engine) as session:
            assert accounts.check_password(session, "maria", "a brand new pass phrase") is None
            assert session.exec(select(ConsoleSession)).all() == []
    finally:
        engine.dispose()
    code, listed = run(capsys, monkeypatch, "user", "list")
    assert "disabled" in listed
    code, missing = run(capsys, monkeypatch, "user", "disable", "nobody")
    assert code == 1 and "no user 'nobody'" in missing

    everything = out + again + listed + changed + disabled + caplog.text
    for secret in (PASSWORD, "a brand new pass phrase", "another long password"):
        assert secret not in everything


def test_user_add_at_the_terminal_asks_twice(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter([PASSWORD, PASSWORD + " typo"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    code, out = run(capsys, monkeypatch, "user", "add", "maria")
    assert code == 1 and "differ" in out
    assert _users(database) == []
    typed = iter([PASSWORD, PASSWORD])
    code, out = run(capsys, monkeypatch, "user", "add", "maria")
    assert code == 0, out
    assert [u.name for u in _users(database)] == ["maria"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_closes_the_guessing_address_never_the_right_one_elsewhere() -> None:
    clock = Clock()
    throttle = accounts.SignInThrottle(per_address=10, per_account=5, window=300, clock=clock)
    for _ in range(5):
        throttle.check("maria", "203.0.113.9")
        throttle.failed("maria", "203.0.113.9")
        clock.now += 1
    # The account is closed to the address that guessed, and open to any other.
    with pytest.raises(accounts.Throttled) as refused:
        throttle.check("maria", "203.0.113.9")
    assert 1 <= refused.value.retry_after <= 300
    throttle.check("maria", "198.51.100.20")
    # Many addresses guessing the same account: each is closed once it has guessed, a new one
    # still gets its try.
    for n in range(5):
        throttle.failed("maria", f"192.0.2.{n}")
        with pytest.raises(accounts.Throttled):
            throttle.check("maria", f"192.0.2.{n}")
    throttle.check("maria", "198.51.100.20")
    # One address guessing many accounts is closed for all of them.
    for n in range(10):
        throttle.failed(f"user{n}", "203.0.113.50")
    with pytest.raises(accounts.Throttled):
        throttle.check("someone-else", "203.0.113.50")
    # The window passes: everyone may try again.
    clock.now += 301
    throttle.check("maria", "203.0.113.9")
    throttle.check("someone-else", "203.0.113.50")
