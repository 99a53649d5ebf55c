"""Operations: /metrics, /ready when the store is down, JSON request logs, graceful shutdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.errors import assert_error
from tests.utils.server import free_port, running_servers


def _samples(text: str, name: str) -> dict[str, float]:
    """Samples of one metric from the text exposition, keyed by their label set."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def test_metrics_count_requests_by_route_template_and_status(client: TestClient) -> None:
    slug = client.get("/api/groups").json()["data"][0]["slug"]
    client.get(f"/groups/{slug}/calendar.ics")
    client.get("/groups/no-such-group/calendar.ics")
    client.get("/no/such/page")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    requests = _samples(response.text, "u4ssc_http_requests_total")
    route = 'method="GET",route="/groups/{slug}/calendar.ics"'
    assert requests["{" + route + ',status="200"}'] == 1
    assert requests["{" + route + ',status="404"}'] == 1
    assert requests['{method="GET",route="unmatched",status="404"}'] == 1
    # The raw paths are not labels: they would grow without bound.
    assert "no-such-group" not in response.text
    latency = _samples(response.text, "u4ssc_http_request_duration_seconds_count")
    assert latency["{" + route + "}"] == 2


def test_metrics_show_feed_renders_and_cache_hits(client: TestClient) -> None:
    def counters() -> tuple[float, float]:
        text = client.get("/metrics").text
        renders = _samples(text, "u4ssc_feed_renders_total")[""]
        hits = _samples(text, "u4ssc_feed_cache_hits_total")[""]
        return renders, hits

    renders_before, _ = counters()
    first = client.get("/calendar.ics", params={"alarm": 15})
    renders_after_first, hits_after_first = counters()
    assert renders_after_first == renders_before + 1
    second = client.get("/calendar.ics", params={"alarm": 15})
    assert second.content == first.content
    # Served from the cache: a hit, no render.
    assert counters() == (renders_after_first, hits_after_first + 1)
    events = _samples(client.get("/metrics").text, "u4ssc_event_cache_misses_total")[""]
    assert events > 0


def test_ready_answers_ready_on_a_working_store(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://u4ssc:secret-password@127.0.0.1:{free_port()}/calendar",
        "sqlite:////proc/no-such-folder/calendar.db",
    ],
    ids=["postgresql-port-closed", "sqlite-path-unreadable"],
)
def test_ready_is_503_with_a_clear_detail_when_the_store_is_unreachable(url: str) -> None:
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN))
    # No lifespan: a server whose store went away after it started.
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/ready")
    assert_error(response, 503, "database")
    assert "secret-password" not in response.text
    assert client.get("/health").status_code == 200


def test_json_logs_one_line_per_request_without_secrets_and_sigterm_exits_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        "LOG_FORMAT": "json",
    }
    with running_servers(env, tmp_path) as (server,):
        httpx.get(server.url + "/calendar.ics", timeout=30)
        httpx.get(server.url + "/api/changes?token=query-secret-0123456789", timeout=30)
        refused = httpx.post(
            server.url + "/api/meetings",
            json={"group": "x"},
            headers={"Authorization": "Bearer wrong-token-abcdefghijklmnop"},
            timeout=30,
        )
        assert refused.status_code in (401, 403)
        httpx.get(server.url + "/api/groups", headers=AUTH, timeout=30)
        assert server.stop() == 0
        output = server.output()

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("path") != "/health"]
    assert [(r["method"], r["path"]) for r in requests] == [
        ("GET", "/calendar.ics"),
        ("GET", "/api/changes"),
        ("POST", "/api/meetings"),
        ("GET", "/api/groups"),
    ]
    for line in requests:
        assert set(line) == {"time", "method", "path", "status", "duration_ms", "client"}
        assert line["client"] == "127.0.0.1"
        assert line["duration_ms"] >= 0
    assert requests[0]["status"] == 200
    assert requests[2]["status"] == refused.status_code
    for secret in (ADMIN_TOKEN, "wrong-token-abcdefghijklmnop", "query-secret", "Authorization"):
        assert secret not in output
    # No access lines in uvicorn's text format besides ours.
    assert '"GET /calendar.ics HTTP/1.1"' not in output
    assert "Shutting down" in output or "Finished server process" in output
