"""Schemathesis against the app's own OpenAPI document: every operation, valid and invalid
input, with and without a token; no answer is a 5xx, every answer is one the document declares,
in its declared shape, and invalid input is refused.

FUZZ_EXAMPLES (default 25) sets the examples per operation and mode; the longer run recorded in
docs/reliability.md uses FUZZ_EXAMPLES=500.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks

from tests.conftest import AUTH

CONFIG = schemathesis.Config.from_path(Path(__file__).with_name("schemathesis.toml"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
WRITES = {"POST /api/meetings", "PATCH /api/meetings/{uid}", "DELETE /api/meetings/{uid}"}
WRITES |= {"POST /api/groups", "PATCH /api/groups/{slug}", "GET /api/changes"}
READS = {"GET /api/meetings", "GET /calendar.ics", "GET /groups/{slug}/calendar.ics"}
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def _modes(operation: Any) -> tuple[schemathesis.GenerationMode, ...]:
    # Any string is a valid path parameter: an operation with nothing else has no invalid input.
    if operation.query or operation.headers or operation.body:
        return MODES
    return MODES[:1]


def _fuzz(app: FastAPI, token: bool) -> tuple[list[str], list[str]]:
    """Every operation (without a token: every one that needs a token) in both modes; the
    labels tried and a line per failure."""
    api = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    tried: list[str] = []
    failures: list[str] = []
    headers = AUTH if token else {}
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if not token and "401" not in operation.definition.raw["responses"]:
            continue  # the same as with a token: reads never look at one
        for mode in _modes(operation):
            tried.append(f"{operation.label} {mode.value}")

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as exc:
                # Generated bodies can be huge: the start of the report says what failed.
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:3000]}")
    return tried, failures


def test_with_a_token_no_input_breaks_any_operation(app: FastAPI, client: TestClient) -> None:
    tried, failures = _fuzz(app, token=True)
    operations = {label.rsplit(" ", 1)[0] for label in tried}
    # The whole surface is fuzzed, not a part of it that happened to load.
    assert operations >= WRITES | READS
    assert not failures, "\n\n".join(failures)


def test_without_a_token_nothing_breaks_and_nothing_is_written(
    app: FastAPI, client: TestClient
) -> None:
    before = client.get("/api/changes", headers=AUTH).json()["count"]
    tried, failures = _fuzz(app, token=False)
    assert {label.rsplit(" ", 1)[0] for label in tried} >= WRITES
    assert not failures, "\n\n".join(failures)
    assert client.get("/api/changes", headers=AUTH).json()["count"] == before
