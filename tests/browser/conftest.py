"""A real server (uvicorn subprocess on a fresh SQLite file) and real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.utils.server import Env, running_servers

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-test-token-0123456789"
CANCELLED_UID = "ai-in-cities-wg2-2023-07-27"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running server; one meeting cancelled so pages show a cancellation.
    PUBLIC_BASE_URL is unset, so that links point at this very server."""
    folder = tmp_path_factory.mktemp("browser")
    env: Env = {
        "DATABASE_URL": f"sqlite:///{folder / 'calendar.db'}",
        "ADMIN_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": None,
    }
    with running_servers(env, folder) as (running,):
        base = running.url
        cancelled = httpx.delete(
            f"{base}/api/meetings/{CANCELLED_UID}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert cancelled.status_code == 200, cancelled.text
        yield base


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/test.sh installs it"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()
