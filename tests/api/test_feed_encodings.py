"""A feed's codings: each its own strong ETag, revalidated with either."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_gzip_and_identity_answers_carry_different_strong_etags(client: TestClient) -> None:
    plain = client.get("/calendar.ics", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert not plain.headers["etag"].startswith("W/")
    assert zipped.headers["etag"] != plain.headers["etag"]
    # Revalidation works with either tag, and names the tag of the coding asked for.
    again = client.get(
        "/calendar.ics",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]
