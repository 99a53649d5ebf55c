"""An answer to a bug (500) carries the same protective headers as any other, and no detail."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_a_500_answer_carries_nosniff(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/test-boom")
    assert answer.status_code == 500
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "a bug" not in answer.text
