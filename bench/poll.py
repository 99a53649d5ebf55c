"""Issue 14's benchmark: a poll against what the server itself costs, the JSON API against the
feed, and a new process's first answer on large stores.

    .venv/bin/python -m bench.poll [--duration 5] [--repeats 3] [--output bench/RESULTS-poll.md]

wrk -t2 -c50 on 127.0.0.1, pinned to core 1 while the servers run on core 0 (taskset, with
two cores or more); each server warmed up, then measured in turn, in rounds (the median of each
is shown): nginx
serving the feed's bytes as a static file; a bare ASGI app returning the same bytes (and 304 on
its ETag) under uvicorn, with the httptools protocol and with exactly the protocol options
`serve` uses, and once more with serve's own header lines too (uvicorn's h11 work grows with
each header, so that one is the server's cost of the very answers serve sends);
`u4ssc-calendar serve` with its defaults. Then 10,000 and 100,000 meetings: the first
/calendar.ics of a new process (after an earlier process stored the events), the re-render
after each of 12 changes made by another process (the first, then the median of the next 11;
each an HTTP fetch of the whole feed, so a cached fetch's time is shown beside it), peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.__main__ import (
    CONNECTIONS,
    PY,
    ROOT,
    THREADS,
    fetch,
    free_port,
    pinned,
    seed,
    start_nginx,
    version,
    wait_for,
    wrk,
)

BARE = """
import json, os
from pathlib import Path
BODY = Path(os.environ["BARE_BODY"]).read_bytes()
ETAG = os.environ["BARE_ETAG"].encode()
HEADERS = [(b"content-type", b"text/calendar; charset=utf-8"), (b"etag", ETAG),
           (b"content-length", str(len(BODY)).encode())]
NOT_MODIFIED = [(b"etag", ETAG)]
if os.environ.get("BARE_SAME_HEADERS"):  # exactly the header lines serve answers with
    both = json.loads(os.environ["BARE_SAME_HEADERS"])
    HEADERS = [(k.encode(), v.encode()) for k, v in both["200"]]
    NOT_MODIFIED = [(k.encode(), v.encode()) for k, v in both["304"]]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    for name, value in scope["headers"]:
        if name == b"if-none-match" and value == ETAG:
            await send({"type": "http.response.start", "status": 304, "headers": NOT_MODIFIED})
            await send({"type": "http.response.body", "body": b""})
            return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

SAME_AS_SERVE = """
import os, uvicorn
from app.edge import protocol
from app.core.config import get_settings
import bare
settings = get_settings()
uvicorn.run(bare.app, host="127.0.0.1", port=int(os.environ["BARE_PORT"]),
            **protocol.server_options(settings))
"""


def _env(db: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "AUTO_SEED": "false"}
    # A fixed base URL, as a deployment has: events hold links, so their stored texts are kept
    # per base URL, and each process here listens on a port of its own.
    env["PUBLIC_BASE_URL"] = "https://calendar.example.org"
    env["ALLOWED_HOSTS"] = "*"
    return env


def start_serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    command = [str(PY), "-m", "app.cli.main", "serve", "--port", str(port)]
    return subprocess.Popen(pinned(command, 0), cwd=ROOT, env=_env(db), stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(url: str) -> float:
    started = time.perf_counter()
    fetch(url)
    return time.perf_counter() - started


def answer_headers(url: str, etag: str) -> dict[str, list[tuple[str, str]]]:
    """The header lines of serve's 200 and 304 for this URL, as sent (uvicorn adds Date and
    Server itself)."""
    parts = urllib.parse.urlsplit(url)
    found = {}
    for status, headers in (("200", {}), ("304", {"If-None-Match": etag})):
        connection = http.client.HTTPConnection(parts.netloc, timeout=60)
        connection.request("GET", parts.path, headers=headers)
        response = connection.getresponse()
        response.read()
        found[status] = [
            (k.lower(), v) for k, v in response.getheaders() if k.lower() not in ("date", "server")
        ]
        connection.close()
    return found


def rates(url: str, duration: int, etag: str) -> tuple[float, float]:
    ok = wrk(url, duration)
    cached = wrk(url, duration, headers={"If-None-Match": etag})
    assert ok.non2xx == 0 and cached.non2xx == 0, (url, ok, cached)
    return ok.rps, cached.rps


SAME = "bare ASGI app, serve's protocol options and serve's header lines"


def _median(found: list[tuple[float, float]]) -> tuple[float, float]:
    middle = len(found) // 2
    return sorted(f[0] for f in found)[middle], sorted(f[1] for f in found)[middle]


def http_rates(work: Path, duration: int, repeats: int) -> list[str]:
    db = work / "poll.db"
    seed(db, 20)
    port = free_port()
    serve = start_serve(db, port)
    procs: list[subprocess.Popen[bytes]] = [serve]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/health")
        feed_url = base + "/calendar.ics"
        body, headers = fetch(feed_url)
        etag = headers["etag"]
        (work / "site").mkdir()
        work.chmod(0o755)  # nginx's worker process runs as another user
        (work / "site" / "calendar.ics").write_bytes(body)
        (work / "bare.py").write_text(BARE)
        ports = {name: free_port() for name in ("nginx", "httptools", "same", "headers")}
        procs.append(start_nginx(work / "site", ports["nginx"], work))
        env = {**os.environ, "PYTHONPATH": f"{work}:{ROOT}", "BARE_ETAG": etag}
        env["BARE_BODY"] = str(work / "site" / "calendar.ics")
        httptools = [str(PY), "-m", "uvicorn", "bare:app", "--host", "127.0.0.1"]
        httptools += ["--port", str(ports["httptools"]), "--loop", "uvloop", "--http"]
        httptools += ["httptools", "--no-access-log", "--log-level", "warning"]
        procs.append(subprocess.Popen(pinned(httptools, 0), cwd=work, env=env))
        (work / "same.py").write_text(SAME_AS_SERVE)
        same = [str(PY), str(work / "same.py")]
        same_env = {**env, "BARE_PORT": str(ports["same"])}
        procs.append(subprocess.Popen(pinned(same, 0), cwd=work, env=same_env))
        served = json.dumps(answer_headers(feed_url, etag))
        headers_env = {**env, "BARE_PORT": str(ports["headers"]), "BARE_SAME_HEADERS": served}
        procs.append(subprocess.Popen(pinned(same, 0), cwd=work, env=headers_env))
        for name in ports:
            wait_for(f"http://127.0.0.1:{ports[name]}/calendar.ics", timeout=30)
        nginx_etag = fetch(f"http://127.0.0.1:{ports['nginx']}/calendar.ics")[1]["etag"]
        local = "http://127.0.0.1:{}/calendar.ics".format
        targets = {
            "nginx, static file": (local(ports["nginx"]), nginx_etag),
            "bare ASGI app, uvicorn (uvloop, httptools)": (local(ports["httptools"]), etag),
            "bare ASGI app, uvicorn with serve's protocol options": (local(ports["same"]), etag),
            SAME: (local(ports["headers"]), etag),
            "`u4ssc-calendar serve` defaults, /calendar.ics": (feed_url, etag),
        }
        for path in ("/api/meetings", "/api/meetings?group=ai-in-cities"):
            targets[f"`serve` defaults, {path}"] = (base + path, fetch(base + path)[1]["etag"])
        for url, tag in targets.values():  # warm each up (first requests fill caches)
            wrk(url, 2, headers={"If-None-Match": tag})
            wrk(url, 2)
        # Rounds, each server in turn: a drift of the machine's load falls on all of them.
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
        for _ in range(repeats):
            for name, (url, tag) in targets.items():
                runs[name].append(rates(url, duration, tag))
        results = {name: _median(found) for name, found in runs.items()}
    finally:
        for process in procs:
            stop(process)
    nginx = results["nginx, static file"]
    same_bare = results[SAME]
    fast_bare = results["bare ASGI app, uvicorn (uvloop, httptools)"]
    feed = results["`u4ssc-calendar serve` defaults, /calendar.ics"]
    lines = [
        f"20-meeting seeded store, feed {len(body):,} bytes; wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{duration}s; {repeats} rounds, each server in turn, the median of each shown.",
        "",
        "| server | 200 req/s | 304 req/s | 200 / bare (same protocol and headers) "
        "| 304 / bare (same) | 200 / bare (httptools) | 200 / nginx | 304 / nginx "
        "| vs feed (200, 304) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (ok, cached) in results.items():
        lines.append(
            f"| {name} | {ok:,.0f} | {cached:,.0f} | {ok / same_bare[0]:.2f} | "
            f"{cached / same_bare[1]:.2f} | {ok / fast_bare[0]:.2f} | {ok / nginx[0]:.3f} | "
            f"{cached / nginx[1]:.3f} | {ok / feed[0]:.2f}, {cached / feed[1]:.2f} |"
        )
    return lines


def large(work: Path, n: int) -> list[str]:
    db = work / f"large-{n}.db"
    seed(db, n)
    out = []
    port = free_port()
    first = start_serve(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", timeout=120)
        cold = timed(base + "/calendar.ics")  # renders every event and stores it
    finally:
        stop(first)
    port = free_port()
    second = start_serve(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", timeout=120)
        fresh = timed(base + "/calendar.ics")
        rss = peak_rss_mb(second.pid)
        cached = min(timed(base + "/calendar.ics") for _ in range(5))
        uid = _first_uid(base)
        rerenders = []
        for change in range(CHANGES):
            _patch(base, uid, db, f"Changed {change}")
            rerenders.append(timed(base + "/calendar.ics"))
        rss = max(rss, peak_rss_mb(second.pid))
    finally:
        stop(second)
    later = sorted(rerenders[1:])[len(rerenders[1:]) // 2]
    out.append(
        f"| {n:,} | {cold:.2f} s | {fresh:.3f} s | {rerenders[0] * 1000:.0f} ms | "
        f"{later * 1000:.0f} ms ({min(rerenders) * 1000:.0f}-{max(rerenders) * 1000:.0f}) | "
        f"{cached * 1000:.0f} ms | {rss:.0f} MB |"
    )
    return out


def _first_uid(base: str) -> str:
    with urllib.request.urlopen(base + "/api/meetings?limit=1", timeout=60) as response:
        uid: str = json.load(response)["data"][0]["uid"]
        return uid


CHANGES = 12


def _patch(base: str, uid: str, db: Path, title: str) -> None:
    """One change through the CLI (a write of its own, as an editor's would be)."""
    command = [str(PY), "-m", "app.cli.main", "meetings", "move", uid, "--title", title]
    subprocess.run(command, cwd=ROOT, env=_env(db), check=True, capture_output=True)
    time.sleep(0.5)  # the watcher sees another process's write within ~100 ms


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.poll")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the HTTP runs")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS-poll.md"))
    parser.add_argument("--note", default="")
    parser.add_argument("--skip-http", action="store_true", help="only the large stores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="u4ssc-poll-") as folder:
        work = Path(folder)
        lines = [] if args.skip_http else http_rates(work, args.duration, args.repeats)
        lines += [
            "",
            "| meetings | first process, cold render | new process, first /calendar.ics "
            "| re-render after one change (first) | re-render, next 11: median (range of all) "
            "| cached feed, same fetch | peak RSS (new process) |",
            "|---|---|---|---|---|---|---|",
        ]
        for n in (int(s) for s in args.sizes.split(",") if s):
            lines += large(work, n)
    head = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: `{' '.join(sys.argv)}`",
        f"{platform.platform()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"{version(['wrk', '-v'])}; {version(['nginx', '-v'])}; "
        f"{version([str(PY), '-m', 'uvicorn', '--version'])}.",
    ]
    if args.note:
        head.append(args.note)
    text = "\n".join([*head, "", *lines]) + "\n"
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
