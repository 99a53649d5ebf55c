"""README, settings and OpenAPI say the same."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.core.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in README, f"{name.upper()} is missing from the README table"


def test_every_api_route_is_in_the_readme(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in paths:
        assert f"`{path}`" in README or f" {path}`" in README, f"{path} is not in the README"


def test_quick_start_has_the_two_commands() -> None:
    assert "./scripts/run.sh" in README
    assert "./scripts/test.sh" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci
