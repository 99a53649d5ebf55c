"""compose.yaml: each profile starts exactly one store, the proxy fronts whichever runs and is
the one address whose forwarded headers are trusted, and PostgreSQL has no default password."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def _started(*profiles: str) -> set[str]:
    return {
        name
        for name, service in SERVICES.items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def _stores(started: set[str]) -> set[str]:
    kinds = set()
    for name in started:
        url = SERVICES[name].get("environment", {}).get("DATABASE_URL", "")
        if name == "calendar":
            kinds.add("sqlite")
        elif url.startswith("postgresql"):
            kinds.add("postgres")
    return kinds


def test_each_profile_starts_exactly_one_store() -> None:
    assert _stores(_started("sqlite")) == {"sqlite"}
    assert _stores(_started("postgres")) == {"postgres"}
    assert _stores(_started("sqlite", "proxy")) == {"sqlite"}
    assert _stores(_started("postgres", "proxy")) == {"postgres"}
    assert _started() == set()  # nothing without a profile: no store started by surprise


def test_the_proxy_fronts_whichever_store_runs_and_alone_is_trusted() -> None:
    config = COMPOSE["configs"]["nginx-calendar"]["content"]
    upstream = re.search(r"http://(\w+):8000", config)
    assert upstream is not None
    for name in ("calendar", "replica-1", "replica-2"):
        aliases = SERVICES[name]["networks"]["calendar"]["aliases"]
        assert upstream.group(1) in aliases, name
    proxy_address = SERVICES["proxy"]["networks"]["calendar"]["ipv4_address"]
    trusted = SERVICES["calendar"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert trusted == f"${{FORWARDED_ALLOW_IPS:-{proxy_address}}}"
    assert "X-Forwarded-For $$remote_addr" in config  # replaced, never appended


def test_postgresql_has_no_default_password() -> None:
    text = (Path(__file__).resolve().parents[1] / "compose.yaml").read_text()
    assert "change-this-password" not in text
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-}"


def test_the_readmes_docker_commands_name_the_public_address() -> None:
    """Issue 24, point 12: opening the service by the server's address gave 400 because the
    README's Docker section never set PUBLIC_BASE_URL or ALLOWED_HOSTS."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    run = re.search(r"docker run .*?u4ssc-calendar\n", deploying, flags=re.S)
    assert run, deploying
    assert "PUBLIC_BASE_URL=" in run.group(0) and "ALLOWED_HOSTS=" in run.group(0)
    for name, service in SERVICES.items():
        environment = service.get("environment", {})
        if "DATABASE_URL" in environment or name == "calendar":
            assert "PUBLIC_BASE_URL" in environment and "ALLOWED_HOSTS" in environment, name
