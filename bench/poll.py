"""Issue 14's benchmark: a poll against what the server itself costs, the JSON API against the
feed, and a new process's first answer on large stores.

    .venv/bin/python -m bench.poll [--duration 5] [--repeats 3] [--output bench/RESULTS-poll.md]
        [--paths /calendar.ics,/calendar.ics?lang=fr] [--sizes ""]

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
# path -> the bytes, ETag and header lines serve answers it with (200 and 304).
ANSWERS = {}
FOUND = json.loads(Path(os.environ["BARE_ANSWERS"]).read_text())
for path, (body_file, etag, both) in FOUND.items():
    if os.environ.get("BARE_SAME_HEADERS"):
        ok = [(k.encode(), v.encode()) for k, v in both["200"]]
        not_modified = [(k.encode(), v.encode()) for k, v in both["304"]]
    else:  # the least a server sends
        body = Path(body_file).read_bytes()
        ok = [(b"content-type", both["type"].encode()), (b"etag", etag.encode()),
              (b"content-length", str(len(body)).encode())]
        not_modified = [(b"etag", etag.encode())]
    ANSWERS[path.encode()] = (Path(body_file).read_bytes(), etag.encode(), ok, not_modified)
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"].encode() + (b"?" + scope["query_string"] if scope["query_string"] else b"")
    body, etag, ok, not_modified = ANSWERS[path]
    for name, value in scope["headers"]:
        if name == b"if-none-match" and value == etag:
            await send({"type": "http.response.start", "status": 304, "headers": not_modified})
            await send({"type": "http.response.body", "body": b""})
            return
    await send({"type": "http.response.start", "status": 200, "headers": ok})
    await send({"type": "http.response.body", "body": body})
"""


def _env(db: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "AUTO_SEED": "false"}
    # A fixed base URL, as a deployment has: events hold links, so their stored texts are kept
    # per base URL, and each process here listens on a port of its own.
    env["PUBLIC_BASE_URL"] = "https://calendar.example.org"
    env["ALLOWED_HOSTS"] = "*"
    return env


def start_serve(db: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [str(PY), "-m", "app.cli.main", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
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
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    found = {}
    for status, headers in (("200", {}), ("304", {"If-None-Match": etag})):
        connection = http.client.HTTPConnection(parts.netloc, timeout=60)
        connection.request("GET", target, headers=headers)
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


def _median(found: list[tuple[float, float]]) -> tuple[float, float]:
    middle = len(found) // 2
    return sorted(f[0] for f in found)[middle], sorted(f[1] for f in found)[middle]


PATHS = ("/calendar.ics", "/api/meetings", "/api/meetings?group=ai-in-cities")
# A path's query is part of what is polled: `--paths /calendar.ics,/calendar.ics?lang=fr`
# compares a language's cached feed with English's (issue 26).
# The main baseline: what a user would otherwise run, the same bytes from a bare ASGI app under
# uvicorn with uvloop and httptools (its defaults with uvicorn[standard]).
BARE_1 = "bare ASGI app, uvicorn (uvloop, httptools)"
BARE_2 = "bare ASGI app, uvicorn (uvloop, httptools), 2 workers"
SERVE_1 = "`u4ssc-calendar serve` defaults"
SERVE_2 = "`u4ssc-calendar serve --workers 2`"


def _bare(work: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [str(PY), "-m", "uvicorn", "bare:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    command += ["--log-level", "warning", "--workers", str(workers)]
    return subprocess.Popen(pinned(command, 0), cwd=work, env=env)


def _granian(
    work: Path, port: int, env: dict[str, str], lib: str, target: str = "bare:app"
) -> subprocess.Popen[bytes]:
    command = [str(PY), "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--no-access-log", target]
    granian_env = {**env, "PYTHONPATH": f"{lib}:{env['PYTHONPATH']}"}
    return subprocess.Popen(pinned(command, 0), cwd=work, env=granian_env)


def http_rates(
    work: Path, duration: int, repeats: int, granian: str, paths: tuple[str, ...] = PATHS
) -> list[str]:
    db = work / "poll.db"
    seed(db, 20)
    ports = {name: free_port() for name in ("serve", "serve2", "nginx", "bare", "bare2", "same")}
    if granian:
        ports["granian"] = free_port()
        ports["app-granian"] = free_port()
    serve = start_serve(db, ports["serve"])
    procs: list[subprocess.Popen[bytes]] = [serve, start_serve(db, ports["serve2"], workers=2)]
    try:
        base = f"http://127.0.0.1:{ports['serve']}"
        wait_for(base + "/health")
        wait_for(f"http://127.0.0.1:{ports['serve2']}/health")
        (work / "site").mkdir()
        work.chmod(0o755)  # nginx's worker process runs as another user
        answers = {}
        for index, path in enumerate(paths):
            body, headers = fetch(base + path)
            (work / "site" / f"answer-{index}").write_bytes(body)
            both: dict[str, object] = dict(answer_headers(base + path, headers["etag"]))
            both["type"] = headers["content-type"]
            answers[path] = (str(work / "site" / f"answer-{index}"), headers["etag"], both)
        (work / "site" / "calendar.ics").write_bytes(fetch(base + "/calendar.ics")[0])
        (work / "answers.json").write_text(json.dumps(answers))
        (work / "bare.py").write_text(BARE)
        procs.append(start_nginx(work / "site", ports["nginx"], work))
        env = {
            **os.environ,
            "PYTHONPATH": f"{work}:{ROOT}",
            "BARE_ANSWERS": str(work / "answers.json"),
        }
        procs.append(_bare(work, ports["bare"], 1, env))
        procs.append(_bare(work, ports["bare2"], 2, env))
        procs.append(_bare(work, ports["same"], 1, {**env, "BARE_SAME_HEADERS": "1"}))
        if granian:
            procs.append(_granian(work, ports["granian"], env, granian))
            app_env = {**_env(db), "PYTHONPATH": str(ROOT)}
            procs.append(_granian(ROOT, ports["app-granian"], app_env, granian, "app.main:app"))
        for name in ports:
            wait_for(f"http://127.0.0.1:{ports[name]}/calendar.ics", timeout=30)
        local = "http://127.0.0.1:{}{}".format
        targets: dict[tuple[str, str], tuple[str, str]] = {}
        for path in paths:
            etag = answers[path][1]
            targets[(BARE_1, path)] = (local(ports["bare"], path), etag)
            targets[("bare ASGI app, serve's header lines", path)] = (
                local(ports["same"], path),
                etag,
            )
            if granian:
                targets[("bare ASGI app, granian", path)] = (local(ports["granian"], path), etag)
                app_url = local(ports["app-granian"], path)
                targets[("this app under granian (no header cap)", path)] = (app_url, etag)
            targets[(SERVE_1, path)] = (local(ports["serve"], path), etag)
            targets[(BARE_2, path)] = (local(ports["bare2"], path), etag)
            targets[(SERVE_2, path)] = (local(ports["serve2"], path), etag)
        nginx_url = local(ports["nginx"], "/calendar.ics")
        targets[("nginx, static file", "/calendar.ics")] = (nginx_url, fetch(nginx_url)[1]["etag"])
        for url, tag in targets.values():  # warm each up (first requests fill caches)
            wrk(url, 2, headers={"If-None-Match": tag})
            wrk(url, 2)
        # Rounds, each server in turn: a drift of the machine's load falls on all of them.
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in targets}
        for _ in range(repeats):
            for key, (url, tag) in targets.items():
                runs[key].append(rates(url, duration, tag))
        results = {key: _median(found) for key, found in runs.items()}
    finally:
        for process in procs:
            stop(process)
    nginx = results[("nginx, static file", "/calendar.ics")]
    lines = [
        f"20-meeting seeded store, feed {len(fetch_size(work)):,} bytes; wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{duration}s; {repeats} rounds, each server in turn, the median of "
        "each shown. Servers pinned to core 0 (two workers share it), wrk to core 1. The baseline "
        "of each row is the bare app with as many workers, on the same path.",
        "",
        "| server | path | 200 req/s | 304 req/s | 200 / bare | 304 / bare | 200 / nginx "
        "| 304 / nginx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, path), (ok, cached) in results.items():
        bare = results[(BARE_2 if "2" in name and "worker" in name else BARE_1, path)]
        lines.append(
            f"| {name} | `{path}` | {ok:,.0f} | {cached:,.0f} | {ok / bare[0]:.2f} | "
            f"{cached / bare[1]:.2f} | {ok / nginx[0]:.2f} | {cached / nginx[1]:.2f} |"
        )
    return lines


def fetch_size(work: Path) -> bytes:
    return (work / "site" / "calendar.ics").read_bytes()


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


def _granian_version(lib: str) -> str:
    code = f"import sys; sys.path.insert(0, {lib!r}); import granian; print(granian.__version__)"
    return "granian " + version([str(PY), "-c", code])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.poll")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the HTTP runs")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS-poll.md"))
    parser.add_argument("--note", default="")
    parser.add_argument("--skip-http", action="store_true", help="only the large stores")
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help="the paths polled, comma-separated, queries included (?lang=fr)",
    )
    parser.add_argument(
        "--granian", default="", help="a folder with granian installed (pip install --target)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="u4ssc-poll-") as folder:
        work = Path(folder)
        lines = (
            []
            if args.skip_http
            else http_rates(
                work, args.duration, args.repeats, args.granian, tuple(args.paths.split(","))
            )
        )
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
        f"{version([str(PY), '-m', 'uvicorn', '--version'])}"
        + (
            f"; granian {args.granian and version([str(PY), '-m', 'granian', '--version'])}"
            if args.granian
            else ""
        )
        + ".",
    ]
    if args.note:
        head.append(args.note)
    text = "\n".join([*head, "", *lines]) + "\n"
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
