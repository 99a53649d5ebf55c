"""The load run: many feed pollers and one writer against a real uvicorn process on 127.0.0.1.

    .venv/bin/python bench/load.py                      # 60 s, 100 connections, a write each 100 ms
    .venv/bin/python bench/load.py --duration 5 --connections 20 --json

Pollers revalidate with If-None-Match like calendar apps (half of them) or GET plainly (the other
half), some asking for gzip. The writer retitles one meeting through the API every interval.
The run fails (exit 1) on any error answer, any 200 body that is not a whole feed, a feed that
did not change after an acknowledged write, or a client that sees an older feed after a newer one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import icalendar

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "load-run-admin-token-0123456789"
# The writer's meeting carries its write number in its title, so a body says how new it is.
MARK = re.compile(rb"SUMMARY:[^\r\n]*Load write (\d+)")
PARSE_EVERY = 25  # a full icalendar parse of every 25th body; every body is checked for shape


@dataclass
class Tally:
    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    parsed: int = 0
    writes: int = 0
    write_latencies: list[float] = field(default_factory=list)
    etag_changes_after_write: int = 0
    violations: list[str] = field(default_factory=list)
    etag_marks: dict[str, int] = field(default_factory=dict)

    def violation(self, text: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(text)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'load.db'}",
        "ADMIN_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {(folder / 'server.log').read_text()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def _check_body(tally: Tally, path: str, body: bytes, parse: bool) -> int | None:
    """The write number a whole feed body shows (None if the meeting is not in it)."""
    if not (body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")):
        tally.violation(f"{path}: a 200 body that is not a whole feed ({len(body)} bytes)")
    if parse:
        calendar = icalendar.Calendar.from_ical(body)
        if calendar.name != "VCALENDAR":
            tally.violation(f"{path}: icalendar read {calendar.name}")
        tally.parsed += 1
    found = MARK.search(body)
    return int(found.group(1)) if found else None


async def poll(
    client: httpx.AsyncClient, path: str, revalidate: bool, gzip_ok: bool, tally: Tally, stop: float
) -> None:
    etag: str | None = None
    newest = -1
    while time.monotonic() < stop:
        headers = {"Accept-Encoding": "gzip" if gzip_ok else "identity"}
        if revalidate and etag:
            headers["If-None-Match"] = etag
        began = time.perf_counter()
        try:
            response = await client.get(path, headers=headers)
        except httpx.HTTPError as exc:
            tally.errors[type(exc).__name__] += 1
            continue
        tally.latencies.append(time.perf_counter() - began)
        tally.requests += 1
        if response.status_code == 304:
            tally.not_modified += 1
            if response.headers.get("ETag") != etag:
                tally.violation(f"{path}: 304 for {etag} names {response.headers.get('ETag')}")
            continue
        if response.status_code != 200:
            tally.errors[str(response.status_code)] += 1
            continue
        tally.ok += 1
        body = response.content  # httpx has undone the gzip
        if gzip_ok and response.headers.get("Content-Encoding") != "gzip":
            tally.violation(
                f"{path}: asked for gzip, got {response.headers.get('Content-Encoding')}"
            )
        mark = _check_body(tally, path, body, parse=tally.ok % PARSE_EVERY == 0)
        new_etag = response.headers["ETag"]
        if mark is not None:
            # One ETag is one content: it never names two versions of the feed.
            seen = tally.etag_marks.setdefault(f"{path} {new_etag}", mark)
            if seen != mark:
                tally.violation(f"{path}: ETag {new_etag} served write {seen} and write {mark}")
            if mark < newest:
                tally.violation(f"{path}: write {mark} after write {newest} ({new_etag})")
            newest = max(newest, mark)
        etag = new_etag


async def write(
    client: httpx.AsyncClient, uid: str, interval: float, tally: Tally, stop: float
) -> None:
    """Retitle the meeting every `interval`; after each acknowledged write the feed must differ
    from the one before it and show this write."""
    previous = (await client.get("/calendar.ics")).headers["ETag"]
    number = 0
    next_at = time.monotonic()
    while time.monotonic() < stop:
        number += 1
        began = time.perf_counter()
        response = await client.patch(
            f"/api/meetings/{uid}",
            json={"title": f"Load write {number}"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        tally.write_latencies.append(time.perf_counter() - began)
        if response.status_code != 200:
            tally.errors[f"write {response.status_code}"] += 1
        else:
            tally.writes += 1
            feed = await client.get("/calendar.ics", headers={"If-None-Match": previous})
            body = feed.content
            found = MARK.search(body)
            if feed.status_code != 200 or found is None or int(found.group(1)) != number:
                tally.violation(f"write {number}: the feed did not follow it ({feed.status_code})")
            else:
                tally.etag_changes_after_write += 1
                previous = feed.headers["ETag"]
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def run(url: str, duration: float, connections: int, interval: float) -> Tally:
    tally = Tally()
    limits = httpx.Limits(
        max_connections=connections + 2, max_keepalive_connections=connections + 2
    )
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        groups = (await client.get("/api/groups", params={"kind": "thematic"})).json()["data"]
        slugs = [g["slug"] for g in groups]
        created = await client.post(
            "/api/meetings",
            json={
                "group": slugs[0],
                "date": "2024-06-11",
                "start_time": "10:00",
                "end_time": "11:00",
                "title": "Load write 0",
            },
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        created.raise_for_status()
        uid = created.json()["uid"]
        paths = [
            "/calendar.ics",
            f"/groups/{slugs[0]}/calendar.ics",
            f"/calendar.ics?group={slugs[0]}&group={slugs[-1]}",
            f"/groups/{slugs[-1]}/calendar.ics",  # a feed the writes never touch
        ]
        stop = time.monotonic() + duration
        pollers = [
            poll(client, paths[n % len(paths)], n % 2 == 0, n % 3 == 0, tally, stop)
            for n in range(connections)
        ]
        await asyncio.gather(write(client, uid, interval, tally, stop), *pollers)
    return tally


def summary(tally: Tally, duration: float, connections: int) -> dict[str, object]:
    ms = sorted(value * 1000 for value in tally.latencies) or [0.0]
    writes_ms = sorted(value * 1000 for value in tally.write_latencies) or [0.0]

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    return {
        "duration_s": duration,
        "connections": connections,
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / duration),
        "200": tally.ok,
        "304": tally.not_modified,
        "errors": dict(tally.errors),
        "p50_ms": pct(ms, 0.50),
        "p99_ms": pct(ms, 0.99),
        "max_ms": round(ms[-1], 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "bodies_parsed_with_icalendar": tally.parsed,
        "writes": tally.writes,
        "write_p50_ms": pct(writes_ms, 0.50),
        "write_p99_ms": pct(writes_ms, 0.99),
        "feed_changed_after_write": tally.etag_changes_after_write,
        "violations": tally.violations,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--connections", type=int, default=100, help="pollers (default 100)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between writes")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="u4ssc-load-") as folder:
        process, url = start_server(Path(folder))
        try:
            tally = asyncio.run(run(url, args.duration, args.connections, args.interval))
        finally:
            process.terminate()
            process.wait(timeout=30)
    result = summary(tally, args.duration, args.connections)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:30} {value}")
    failed = bool(tally.errors or tally.violations) or tally.writes == 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
