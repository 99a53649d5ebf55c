"""The benchmark: render cost per feed size, and HTTP rates beside nginx and Radicale.

    bench/run.sh                      # installs wrk, nginx, Radicale if missing, then this
    .venv/bin/python -m bench [--duration 10] [--repeats 3] [--sizes 20,1000,10000,100000]

Writes bench/RESULTS.md. Everything listens on 127.0.0.1; wrk and the servers share the cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = ROOT / ".venv" / "bin" / "python"
RADICALE_VENV = BENCH / ".venv-radicale"
SIZES = (20, 1000, 10_000, 100_000)
CONNECTIONS, THREADS = 50, 2


# --- seeding -----------------------------------------------------------------------------------


def seed(path: Path, n: int) -> None:
    """A fresh store: the action plan's groups, then meetings up to `n`, inserted in bulk with
    the same derived fields crud computes (instants, Geneva date), then one revision bump."""
    from sqlalchemy import delete, insert, select, text
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.models import Group, Meeting
    from app.store.migrate import prepare
    from app.timezone import zones

    if path.exists():
        path.unlink()
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url)
    prepare(engine, settings)
    with Session(engine) as session:
        groups = [g for g in session.exec(select(Group.id, Group.slug)).all()]  # type: ignore[call-overload]
        session.execute(delete(Meeting))
        stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows: list[dict[str, Any]] = []
        slots = [(dt.time(10, 0), dt.time(11, 0)), (dt.time(14, 0), dt.time(15, 30)), (None, None)]
        for i in range(n):
            gid, slug = groups[i % len(groups)]
            day = dt.date(2023, 1, 2) + dt.timedelta(days=(i * 7) % 1800)
            start, end = slots[i % 10 % 3] if i % 10 < 3 else slots[i % 2]
            start_utc = zones.to_utc(day, start) if start else None
            end_utc = zones.to_utc(day, end) if end else None
            status = ("confirmed", "tentative", "cancelled")[0 if i % 13 else 1 + i % 2]
            rows.append(
                {
                    "uid": f"{slug}-{day.isoformat()}-b{i:06d}",
                    "group_id": gid,
                    "title": f"e-meeting {i}",
                    "status": status,
                    "date": day,
                    "start_time": start,
                    "end_time": end,
                    "timezone": zones.GENEVA,
                    "geneva_date": zones.local_date(start_utc) if start_utc else day,
                    "start_utc": start_utc,
                    "end_utc": end_utc,
                    "sequence": i % 3,
                    "description": f"Agenda item {i}: progress of the deliverable, next steps.",
                    "join_url": f"https://meet.example.org/u4ssc/{i}",
                    "from_seed": False,
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp + dt.timedelta(seconds=i),
                }
            )
        for start_row in range(0, len(rows), 5000):
            session.execute(insert(Meeting), rows[start_row : start_row + 5000])
        session.execute(text("UPDATE revision SET value = value + 1 WHERE id = 1"))
        session.commit()
    engine.dispose()


# --- render cost (run in a child process per size, so that peak memory is its own) --------------


def render_cost(path: Path) -> dict[str, Any]:
    from sqlmodel import Session, select

    from app import crud
    from app.core.db import make_engine, write_session
    from app.feeds.selection import FeedSelection
    from app.feeds.service import FeedService
    from app.ical.wording import FeedContext
    from app.models import Meeting, MeetingUpdate

    engine = make_engine(f"sqlite:///{path}")
    ctx = FeedContext("http://127.0.0.1", "u4ssc.itu.int", "u4ssc@itu.int", dt.timedelta(hours=6))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    service = FeedService()
    with Session(engine) as session:
        t0 = time.perf_counter()
        feed = service.feed(session, FeedSelection(), ctx, 90)
        cold = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Session(engine) as session:
        uid = session.exec(select(Meeting.uid).order_by(Meeting.id)).first()  # type: ignore[arg-type]
    assert uid is not None
    with write_session(engine) as session:
        crud.update_meeting(session, uid, MeetingUpdate(title="Changed once"), "bench")
    misses = service.events.misses
    with Session(engine) as session:
        t0 = time.perf_counter()
        again = service.feed(session, FeedSelection(), ctx, 90)
        rerender = time.perf_counter() - t0
    rerendered_events = service.events.misses - misses
    # Peak of Python allocations during a cold render, measured apart (tracemalloc slows it).
    del service, feed
    peak = -1.0
    if len(again.body) < 50_000_000:  # tracing a 100,000-event render takes minutes
        tracemalloc.start()
        with Session(engine) as session:
            FeedService().feed(session, FeedSelection(), ctx, 90)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "cold_s": cold,
        "rerender_s": rerender,
        "rerendered_events": rerendered_events,
        "events": again.body.count(b"BEGIN:VEVENT"),
        "body_bytes": len(again.body),
        "gzip_bytes": len(again.gzipped),
        "traced_peak_mb": peak / 2**20,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": max(rss_after, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
    }


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def start_uvicorn(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "AUTO_SEED": "false"}
    env.pop("PUBLIC_BASE_URL", None)
    command = [str(PY), "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def start_nginx(root: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    conf = work / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/calendar ics; application/json json; }}
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
        gzip_static on;
    }}
}}
"""
    )
    (work / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen(pinned(["nginx", "-c", str(conf), "-p", str(work)], 0))


def start_radicale(events: bytes, port: int, work: Path) -> subprocess.Popen[bytes]:
    """A Radicale collection holding the same events, one item per VEVENT, as Radicale stores."""
    collection = work / "radicale" / "collection-root" / "bench" / "u4ssc"
    if collection.parent.parent.parent.exists():
        shutil.rmtree(collection.parent.parent.parent)
    collection.mkdir(parents=True)
    (collection / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR"}))
    text = events.decode()
    head, _, rest = text.partition("BEGIN:VEVENT")
    zones = "".join(re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r\n", head, re.S))
    for i, body in enumerate(("BEGIN:VEVENT" + rest).split("BEGIN:VEVENT")[1:]):
        body = body.replace("END:VCALENDAR\r\n", "")
        item = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
            f"{zones}BEGIN:VEVENT{body}END:VCALENDAR\r\n"
        )
        (collection / f"e{i:06d}.ics").write_text(item, newline="")
    conf = work / "radicale.conf"
    conf.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
        f"[storage]\nfilesystem_folder = {work / 'radicale'}\n[logging]\nlevel = warning\n"
        "[rights]\ntype = owner_only\n"
    )
    python = RADICALE_VENV / "bin" / "python"
    return subprocess.Popen([str(python), "-m", "radicale", "--config", str(conf)])


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Rate:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int


def pinned(command: list[str], cpu: int) -> list[str]:
    """The command on one core of its own when there are two or more (servers on core 0, wrk
    on core 1): neither then steals the other's time, and runs vary far less."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *command]
    return command


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:  # wrk prints e.g. "-nan" when a run had no completed request
        return float("nan")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def wrk(url: str, duration: int, headers: dict[str, str] | None = None, auth: str = "") -> Rate:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency"]
    command += ["--timeout", "30s"]  # Radicale takes seconds per large collection
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if auth:
        command += ["-H", f"Authorization: Basic {auth}"]
    out = subprocess.run(
        pinned([*command, url], 1), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Rate(rps, p50, p99, int(bad.group(1)) if bad else 0)


def median_rate(url: str, duration: int, repeats: int, **kwargs: Any) -> Rate:
    runs = [wrk(url, duration, **kwargs) for _ in range(repeats)]
    return Rate(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.non2xx for r in runs),
    )


# --- the run -----------------------------------------------------------------------------------


def version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except OSError:
        return "missing"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "?"


def serve_and_measure(
    n: int, db: Path, work: Path, args: argparse.Namespace, scenarios: list[str]
) -> list[dict[str, Any]]:
    port, nginx_port, radicale_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_uvicorn(db, port)
    procs: list[subprocess.Popen[bytes]] = [server]
    rows: list[dict[str, Any]] = []
    try:
        wait_for(f"{base}/health")
        groups = json.loads(fetch(f"{base}/api/groups")[0])["data"]
        group = next(g["slug"] for g in groups if g["kind"] == "thematic" and g["working_groups"])
        static = work / f"www-{n}"
        static.mkdir(exist_ok=True)
        body, head = fetch(f"{base}/calendar.ics")
        gz, _ = fetch(f"{base}/calendar.ics", {"Accept-Encoding": "gzip"})
        (static / "calendar.ics").write_bytes(body)
        (static / "calendar.ics.gz").write_bytes(gz)
        (static / "group.ics").write_bytes(fetch(f"{base}/groups/{group}/calendar.ics")[0])
        (static / "meetings.json").write_bytes(fetch(f"{base}/api/meetings")[0])
        procs.append(start_nginx(static, nginx_port, work))
        nbase = f"http://127.0.0.1:{nginx_port}"
        wait_for(f"{nbase}/calendar.ics")
        nginx_etag = fetch(f"{nbase}/calendar.ics")[1]["etag"]
        cases = {
            "feed 200": (f"{base}/calendar.ics", f"{nbase}/calendar.ics", {}, {}),
            "feed 304": (
                f"{base}/calendar.ics",
                f"{nbase}/calendar.ics",
                {"If-None-Match": head["etag"]},
                {"If-None-Match": nginx_etag},
            ),
            "feed gzip": (
                f"{base}/calendar.ics",
                f"{nbase}/calendar.ics",
                {"Accept-Encoding": "gzip"},
                {"Accept-Encoding": "gzip"},
            ),
            "group feed": (f"{base}/groups/{group}/calendar.ics", f"{nbase}/group.ics", {}, {}),
            "/api/meetings": (f"{base}/api/meetings", f"{nbase}/meetings.json", {}, {}),
        }
        for name in scenarios:
            ours, theirs, our_headers, their_headers = cases[name]
            try:
                fetch(ours, our_headers or None)  # warm the cache
            except urllib.error.HTTPError as exc:  # a 304 is an "error" to urllib
                if exc.code != 304:
                    raise
            mine = median_rate(ours, args.duration, args.repeats, headers=our_headers)
            ref = median_rate(theirs, args.duration, args.repeats, headers=their_headers)
            rows.append({"n": n, "case": name, "service": mine, "nginx": ref})
            print(f"N={n} {name}: service {mine} nginx {ref}", flush=True)
        if n <= args.radicale_max and (RADICALE_VENV / "bin" / "python").exists():
            procs.append(start_radicale(body, radicale_port, work))
            rurl = f"http://127.0.0.1:{radicale_port}/bench/u4ssc/"
            auth = "YmVuY2g6YmVuY2g="  # bench:bench; auth type none accepts any
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(
                        urllib.request.Request(rurl, headers={"Authorization": f"Basic {auth}"}),
                        timeout=600,
                    ).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            rad = median_rate(rurl, args.duration, args.repeats, auth=auth)
            rows.append({"n": n, "case": "radicale feed 200", "radicale": rad})
            print(f"N={n} radicale: {rad}", flush=True)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per case (median)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--radicale-max", type=int, default=1000, help="largest N for Radicale")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--render-only", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_only:
        print(json.dumps(render_cost(Path(args.render_only))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="u4ssc-bench-"))
    work.chmod(0o755)  # nginx's workers run as an unprivileged user and read from here
    renders: dict[int, dict[str, Any]] = {}
    rates: list[dict[str, Any]] = []
    for n in sizes:
        db = work / f"bench-{n}.db"
        t0 = time.perf_counter()
        seed(db, n)
        print(f"N={n}: seeded in {time.perf_counter() - t0:.1f} s", flush=True)
        # Render cost on a copy, so the served store is the seeded one.
        copy = work / f"render-{n}.db"
        shutil.copy(db, copy)
        done = subprocess.run(
            [str(PY), "-m", "bench", "--render-only", str(copy)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        renders[n] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"N={n}: {renders[n]}", flush=True)
        if n == 20:
            rates += serve_and_measure(
                n,
                db,
                work,
                args,
                ["feed 200", "feed 304", "feed gzip", "group feed", "/api/meetings"],
            )
        elif n == 1000:
            rates += serve_and_measure(n, db, work, args, ["feed 200", "feed 304", "feed gzip"])
    write_results(Path(args.output), args, renders, rates)
    shutil.rmtree(work, ignore_errors=True)


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:,.0f}" if theirs > 0 else "n/a (no request completed)"


def write_results(
    path: Path,
    args: argparse.Namespace,
    renders: dict[int, dict[str, Any]],
    rates: list[dict[str, Any]],
) -> None:
    import uvicorn

    radicale = version([str(RADICALE_VENV / "bin" / "python"), "-m", "radicale", "--version"])
    lines = [
        "# Benchmark results",
        "",
        f"- command: `{' '.join(['bench/run.sh', *sys.argv[1:]])}`",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, nproc {os.cpu_count()}, {platform.platform()}",
        f"- python {platform.python_version()}, uvicorn {uvicorn.__version__} (uvloop, httptools,"
        " 1 worker, no access log)",
        f"- {version(['nginx', '-v'])} (1 worker process, sendfile, etag on, gzip_static on)",
        f"- {version(['wrk', '--version'])}; {THREADS} threads, {CONNECTIONS} connections, "
        f"{args.duration} s per run, median of {args.repeats} runs",
        f"- Radicale {radicale}",
        "- wrk and the server under test share the same cores (loopback, 127.0.0.1).",
        "",
        "## Render cost (one process per N; full feed, /calendar.ics)",
        "",
        "| N | events in feed | body | gzip | cold render | re-render after one change"
        " | events re-rendered | traced peak | process peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in renders.items():
        traced = f"{r['traced_peak_mb']:,.0f} MB" if r["traced_peak_mb"] >= 0 else "not traced"
        lines.append(
            f"| {n:,} | {r['events']:,} | {r['body_bytes'] / 1024:,.0f} KB"
            f" | {r['gzip_bytes'] / 1024:,.0f} KB | {r['cold_s'] * 1000:,.0f} ms"
            f" | {r['rerender_s'] * 1000:,.1f} ms | {r['rerendered_events']}"
            f" | {traced} | {r['rss_peak_mb']:,.0f} MB (at start {r['rss_before_mb']:,.0f} MB) |"
        )
    lines += [
        "",
        "## HTTP (requests/s, p50, p99; ratio = service / nginx)",
        "",
        "| N | case | service req/s | p50 | p99 | nginx req/s | p50 | p99 | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    nginx_feed: dict[int, float] = {}
    service_feed: dict[int, float] = {}
    for row in rates:
        if "radicale" in row:
            continue
        s, g = row["service"], row["nginx"]
        if row["case"] == "feed 200":
            nginx_feed[row["n"]], service_feed[row["n"]] = g.rps, s.rps
        lines.append(
            f"| {row['n']:,} | {row['case']} | {s.rps:,.0f} | {s.p50_ms:.2f} ms | {s.p99_ms:.2f} ms"
            f" | {g.rps:,.0f} | {g.p50_ms:.2f} ms | {g.p99_ms:.2f} ms | {s.rps / g.rps:.2f} |"
        )
    lines += ["", "## Radicale (same events, GET of the collection)", ""]
    lines += ["| N | Radicale req/s | p50 | p99 | service / Radicale | nginx / Radicale |"]
    lines += ["|---|---|---|---|---|---|"]
    for row in rates:
        if "radicale" in row:
            r, n = row["radicale"], row["n"]
            lines.append(
                f"| {n:,} | {r.rps:,.1f} | {r.p50_ms:.0f} ms | {r.p99_ms:.0f} ms"
                f" | {_ratio(service_feed.get(n, 0), r.rps)}"
                f" | {_ratio(nginx_feed.get(n, 0), r.rps)} |"
            )
    notes = BENCH / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
