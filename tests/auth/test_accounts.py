"""Console accounts: `u4ssc-calendar user ...` on a real database (SQLite file, or PostgreSQL
with TEST_DATABASE_URL), argon2id hashes, passwords never printed, and the sign-in throttle."""

from __future__ import annotations

import getpass
import io
import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from app.auth import accounts
from app.auth.throttle import Busy, PasswordChecks, SignInThrottle, Throttled
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
    assert main.main(["migrate"]) == 0  # the commands refuse a store that does not exist
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
    assert code == 0 and listed.startswith("NAME\tCREATED\tSTATE\nmaria\t") and "active" in listed

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


def test_throttle_counts_an_attempt_before_its_check_and_slows_a_guessed_account() -> None:
    clock = Clock()
    throttle = SignInThrottle(per_address=10, per_account=5, window=300, clock=clock)
    throttle.begin("maria", "198.51.100.20")
    throttle.succeeded("maria", "198.51.100.20")  # her own address from now on
    # Five addresses guess once each: the account is slowed for every address but hers.
    for n in range(5):
        throttle.begin("maria", f"192.0.2.{n}")
        clock.now += 1
    with pytest.raises(Throttled) as refused:
        throttle.begin("maria", "203.0.113.99")
    assert 1 <= refused.value.retry_after <= 300
    throttle.begin("maria", "198.51.100.20")
    throttle.succeeded("maria", "198.51.100.20")
    # One address trying many accounts is closed for all of them, counted as it starts.
    for n in range(10):
        throttle.begin(f"user{n}", "203.0.113.50")
    with pytest.raises(Throttled):
        throttle.begin("someone-else", "203.0.113.50")
    # An attempt the server was too busy to check does not count.
    throttle.begin("ana", "192.0.2.200")
    throttle.abandoned("ana", "192.0.2.200")
    # The window passes: everyone may try again.
    clock.now += 301
    throttle.begin("maria", "203.0.113.99")
    throttle.begin("someone-else", "203.0.113.50")


def test_at_most_the_configured_password_checks_run_at_once() -> None:
    checks = PasswordChecks(concurrent=2, wait=0.2)
    inside = threading.Semaphore(0)
    release = threading.Event()
    outcomes: list[str] = []

    def slow() -> bool:
        inside.release()
        release.wait(5)
        return True

    def attempt() -> None:
        try:
            checks.run(slow)
            outcomes.append("checked")
        except Busy as exc:
            outcomes.append(f"busy {exc.retry_after}")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert inside.acquire(timeout=5) and inside.acquire(timeout=5)
    attempt()  # a third, while two run: refused after the wait
    release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(outcomes) == ["busy 1", "checked", "checked"]
