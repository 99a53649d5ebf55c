"""The one error shape: {"detail": ...} naming what is wrong."""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2

# TestClient answers with httpx2's Response, a real server's client with httpx's.
Response = httpx.Response | httpx2.Response


def assert_error(response: Response, status: int, *fragments: str) -> Any:
    """`response` has `status`, a JSON body {"detail": ...}, and each fragment in that detail."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"detail"}, body
    text = json.dumps(body["detail"], ensure_ascii=False)
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return body["detail"]


def assert_field_error(response: Response, field: str, *fragments: str) -> Any:
    """A 422 whose detail names `field` in an error's location and says each fragment."""
    detail = assert_error(response, 422, *fragments)
    assert any(field in error["loc"] for error in detail), detail
    return detail
