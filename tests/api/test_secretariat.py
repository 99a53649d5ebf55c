"""Issue 24: nothing the secretariat does goes wrong without a word. Each test is named after
what it reproduces (the numbered points of the issue)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import AUTH

WRITES = {"post", "put", "patch", "delete"}


def test_5_swagger_can_authorize_every_write(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    writes = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in WRITES
    ]
    assert len(writes) >= 5
    unsecured = [(m, p) for m, p, op in writes if {"bearer": []} not in op.get("security", [])]
    assert not unsecured, unsecured
    # What Swagger's "Try it out" sends once authorised is what a write takes.
    uid = client.get("/api/meetings?limit=1").json()["data"][0]["uid"]
    answer = client.patch(f"/api/meetings/{uid}", json={"title": "From /docs"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    refused = client.patch(f"/api/meetings/{uid}", json={"title": "x"}, headers={})
    assert refused.status_code == 401
    assert "Authorization: Bearer" in refused.json()["detail"]
