"""A real server (uvicorn subprocess on a fresh SQLite file) and real headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    sync_playwright,
)

from tests.utils.server import Env, running_servers

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
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
# The console's account, made by the command line before its server starts.
NAME, PASSWORD = "secretariat", "a long pass phrase for tests"


@pytest.fixture(scope="package")
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


@contextmanager
def console_server(folder: Path, env: Env) -> Iterator[tuple[str, str]]:
    """A server of its own (the public page tests expect the seed untouched) and its database
    URL, on a store the command line seeds, with one account it makes there before the server
    starts."""
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'calendar.db'}",
        "ADMIN_TOKEN": None,
        "PUBLIC_BASE_URL": None,
        **env,
    }
    for command in (["seed"], ["user", "add", NAME, "--password-stdin"]):
        added = subprocess.run(
            [sys.executable, "-m", "app.cli.main", *command],
            input=PASSWORD + "\n",
            env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    with running_servers(env, folder) as (running,):
        yield running.url, str(env["DATABASE_URL"])


# Package scope: Playwright's sync API keeps an event loop running in this thread while it
# lives, and the tests after the browser's (a CLI's asyncio.run, say) must not find one.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/test.sh installs it"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Watch:
    """What a page did wrong: console errors, uncaught exceptions, requests off this machine."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def refused(self, status: int) -> None:
        """The page was answered `status` on purpose (a form sent back with its errors):
        Chromium logs that as an error, once; take it off the list."""
        message = f"Failed to load resource: the server responded with a status of {status} "
        matching = [e for e in self.errors if e.startswith(message)]
        assert matching, (status, self.errors)
        self.errors.remove(matching[0])

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.outside == []


def open_page(context: BrowserContext) -> tuple[Page, Watch]:
    """A new page of `context`, watched for errors; requests off this machine are refused."""
    watch = Watch()

    def route(r: Route) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            # Blocked: the pages must work with no internet.
            watch.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    return page, watch


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 AA violations on the page as it is (the context must bypass the
    pages' CSP, which refuses the injected script), each with a few of its nodes."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    # It did look: rules ran and passed on this page.
    assert len(result["passes"]) >= 10, result["passes"]
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
