"""`u4ssc-calendar subscribers list|export|remove EMAIL`, for data requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.cli import main
from app.core.config import get_settings
from app.core.db import make_engine
from tests.delivery.test_announce import GROUP
from tests.utils.invites import add_confirmed


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    try:
        yield add_confirmed(engine, 2, GROUP)
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_list_export_and_remove(database: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    first, second = database
    assert main.main(["subscribers", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        [first, "confirmed", GROUP, "en"],
        [second, "confirmed", GROUP, "en"],
    ]
    assert main.main(["subscribers", "export"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [row["email"] for row in exported] == [first, second]
    assert set(exported[0]) == {"email", "groups", "language", "consented_at", "stopped"}
    assert main.main(["subscribers", "remove", first.upper()]) == 0
    assert "removed" in capsys.readouterr().out
    assert main.main(["subscribers", "remove", first]) == 1
    assert "no subscriber" in capsys.readouterr().err
    assert main.main(["subscribers", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == second
