"""Render the seeded plan's public answers and record each one's status, ETag and sha256.

Run on two commits against copies of one seeded store to show that a change left every byte as it
was (feeds, JSON, Atom, pages and conditional answers):

    python -m bench.reference STORE.db OUT_DIR     # writes OUT_DIR/INDEX
    diff OLD/INDEX NEW/INDEX

Works on any commit since the folders' move and on the ones before it (b3c816a)."""

from __future__ import annotations

import hashlib
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

HOST = "calendar.example.org"
SLUGS_QUERY = "/api/groups?limit=1000"


def _settings_class() -> type:
    for name in ("app.core.config", "app.config"):
        try:
            return importlib.import_module(name).Settings  # type: ignore[no-any-return]
        except ModuleNotFoundError:
            continue
    raise SystemExit("no Settings found")


def _paths(client: TestClient) -> list[str]:
    groups = [g["slug"] for g in client.get(SLUGS_QUERY).json()["data"]]
    meetings = [m["uid"] for m in client.get("/api/meetings?limit=1000").json()["data"]]
    paths = ["/calendar.ics", "/calendar.ics?alarm=15", "/calendar.ics?cancelled=hide"]
    paths += ["/calendar.ics?group=ai-in-cities&group=procurement", "/changes.atom"]
    paths += ["/api/groups", "/api/meetings", "/api/meetings?group=ai-in-cities", "/"]
    paths += ["/api/groups?kind=working&status=ongoing", "/api/meetings?start=2023-07-01"]
    for slug in groups:
        paths += [f"/groups/{slug}/calendar.ics", f"/api/groups/{slug}"]
    paths += [f"/groups/{slug}/changes.atom" for slug in groups[:3]]
    paths += [f"/meetings/{uid}.ics" for uid in meetings[:10]]
    paths += [f"/api/meetings/{uid}" for uid in meetings[:5]]
    return paths


def render(store: Path, out: Path) -> None:
    settings = _settings_class()(
        database_url=f"sqlite:///{store}",
        public_base_url=f"https://{HOST}",
        auto_seed=False,
    )
    create_app = importlib.import_module("app.main").create_app
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    with TestClient(create_app(settings), base_url=f"https://{HOST}") as client:
        for path in _paths(client):
            for coding in ("identity", "gzip"):
                answer = client.get(path, headers={"Accept-Encoding": coding})
                etag = answer.headers.get("etag", "-")
                body = answer.content
                lines.append(
                    f"{path} {coding} {answer.status_code} {etag} "
                    f"{hashlib.sha256(body).hexdigest()}"
                )
                if etag != "-":
                    again = client.get(
                        path, headers={"Accept-Encoding": coding, "If-None-Match": etag}
                    )
                    lines.append(f"{path} {coding} if-none-match {again.status_code}")
    (out / "INDEX").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} answers recorded in {out / 'INDEX'}")


def main() -> None:
    store, out = Path(sys.argv[1]), Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.db"
        shutil.copyfile(store, copy)  # the store is never changed: each run reads its own copy
        render(copy, out)


if __name__ == "__main__":
    main()
