"""What a cached poll costs the application itself: the ASGI app driven directly on uvloop
with a fake receive and send (no socket, no HTTP parser), best of three runs per case.

    .venv/bin/python -m bench.inprocess [--polls 20000] [--profile "ics 304"]

Cases: /calendar.ics, its French twin /calendar.ics?lang=fr (issue 26) and /api/meetings, each a
200 and a 304 (If-None-Match), on a 20-meeting store, as bench.poll measures them over HTTP; and
a bare ASGI app's 304 for scale. Numbers
vary with the machine's load: compare runs made side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.__main__ import seed

Headers = tuple[tuple[bytes, bytes], ...]


def _scope(target: str, headers: Headers) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "state": {},
    }


async def _measure(polls: int, profile: str | None) -> None:
    from app.main import create_app

    app = create_app()
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    async def poll(path: str, headers: Headers = ()) -> tuple[int, dict[bytes, bytes]]:
        sent.clear()
        await app(_scope(path, headers), receive, send)
        return sent[0]["status"], dict(sent[0]["headers"])

    async with app.router.lifespan_context(app):
        await poll("/calendar.ics")
        watcher = app.state.feeds.revisions
        while watcher.current() < 0:  # the watcher's first read
            await asyncio.sleep(0.05)
        _, feed = await poll("/calendar.ics")
        _, meetings = await poll("/api/meetings")
        await poll("/calendar.ics?lang=fr")
        _, french = await poll("/calendar.ics?lang=fr")
        cases: dict[str, tuple[str, Headers]] = {
            "ics 200": ("/calendar.ics", ()),
            "ics 304": ("/calendar.ics", ((b"if-none-match", feed[b"etag"]),)),
            "ics fr 200": ("/calendar.ics?lang=fr", ()),
            "ics fr 304": ("/calendar.ics?lang=fr", ((b"if-none-match", french[b"etag"]),)),
            "json 200": ("/api/meetings", ()),
            "json 304": ("/api/meetings", ((b"if-none-match", meetings[b"etag"]),)),
        }
        for name, (path, headers) in cases.items():
            for _ in range(1000):
                status, _ = await poll(path, headers)
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                for _ in range(polls):
                    sent.clear()
                    await app(_scope(path, headers), receive, send)
                best = min(best, (time.perf_counter() - started) / polls)
            print(f"{name}: {status}, {best * 1e6:.2f} µs per poll")
            if profile == name:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(polls):
                    sent.clear()
                    await app(_scope(path, headers), receive, send)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    etag = feed[b"etag"]

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        for name, value in scope["headers"]:
            if name == b"if-none-match" and value == etag:
                await send({"type": "http.response.start", "status": 304, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return

    started = time.perf_counter()
    for _ in range(polls):
        sent.clear()
        await bare(_scope("/calendar.ics", cases["ics 304"][1]), receive, send)
    print(f"bare ASGI app 304: {(time.perf_counter() - started) / polls * 1e6:.2f} µs per poll")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=20_000)
    parser.add_argument("--profile", help="a case to profile with cProfile, e.g. 'ics 304'")
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "inprocess.db"
    seed(db, 20)
    # As bench.poll's `serve`: a fixed public URL, any Host, the plan not seeded again.
    os.environ.update(
        DATABASE_URL=f"sqlite:///{db}",
        AUTO_SEED="false",
        PUBLIC_BASE_URL="https://calendar.example.org",
        ALLOWED_HOSTS="*",
    )
    uvloop.run(_measure(args.polls, args.profile))


if __name__ == "__main__":
    main()
