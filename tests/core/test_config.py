"""Settings are checked at start: a bad value stops `serve` with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.core.config import Settings
from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ROOT, free_port


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("ADMIN_TOKEN", "PUBLIC_BASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "explanation"),
    [
        ({"DATABASE_URL": "mysql://user@db/calendar"}, "DATABASE_URL names an unsupported"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL must look like"),
        ({"DATABASE_URL": "postgresql+psycopg://db"}, "needs a host and a database"),
        ({"PUBLIC_BASE_URL": "calendar.example.org"}, "PUBLIC_BASE_URL must start with http"),
        ({"ADMIN_TOKEN": "short"}, "ADMIN_TOKEN must be at least 16 characters"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
    ids=["db-engine", "db-garbage", "db-no-name", "base-url", "short-token", "port", "log-format"],
)
def test_a_bad_setting_stops_serve_with_one_line(env: dict[str, str], explanation: str) -> None:
    result = _serve(env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: invalid setting: ")
    assert explanation in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unreachable_database_stops_serve_with_one_line_hiding_the_password() -> None:
    url = f"postgresql+psycopg://u4ssc:hunter2-password@127.0.0.1:{free_port()}/calendar"
    result = _serve({"DATABASE_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot use the database postgresql+psycopg://u4ssc:***@")
    assert "hunter2" not in result.stderr


def test_plain_postgres_urls_use_the_bundled_driver() -> None:
    for plain in ("postgres://u:p@db:5432/calendar", "postgresql://u:p@db:5432/calendar"):
        settings = Settings(database_url=plain)
        assert settings.database_url == "postgresql+psycopg://u:p@db:5432/calendar"


def test_allowed_hosts_default_to_the_public_host_and_local_names() -> None:
    # allowed_hosts=None: the production default (the tests' environment allows testserver).
    public = Settings(public_base_url="https://Calendar.Example.org:8443", allowed_hosts=None)
    assert public.hosts == {"calendar.example.org", "localhost", "127.0.0.1", "[::1]"}
    assert Settings(allowed_hosts=None).hosts == {"localhost", "127.0.0.1", "[::1]"}
    listed = Settings(allowed_hosts=" cal.example.org, ,OTHER.example ")
    assert listed.hosts == {"cal.example.org", "other.example"}
