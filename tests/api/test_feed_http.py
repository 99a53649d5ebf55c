"""The feeds over HTTP: headers, revalidation, HEAD, gzip, CORS, the cancelled and alarm
parameters, two real server processes on one store, and ics-check on every feed."""

from __future__ import annotations

import datetime as dt
import gzip
import subprocess
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.utils.errors import assert_error
from tests.utils.eventually import OTHER_PROCESS_SECONDS, within
from tests.utils.feeds import (
    UID_DOMAIN,
    agreed_events,
    all_meetings,
    create_meeting,
    feed_paths,
)
from tests.utils.server import ROOT, running_servers
from tests.utils.strict_ics import assert_strictly_valid, icalendar_starts

GROUP = "ai-in-cities-wg2"
FEEDS = [
    "/calendar.ics",
    f"/groups/{GROUP}/calendar.ics",
    f"/calendar.ics?group={GROUP}&group=procurement",
    f"/meetings/{GROUP}-2023-07-27.ics",
]
PLAIN = {"Accept-Encoding": "identity"}
ORIGIN = {"Origin": "https://partner.example.com"}
# ics-check, where the repository sits beside ../shared/tools (the workstation, CI); the suite's
# own strict checks (tests/utils/strict_ics.py) run everywhere.
ICS_CHECK = ROOT.parent / "shared" / "tools" / "ics-check"
needs_ics_check = pytest.mark.skipif(
    not ICS_CHECK.is_file(), reason=f"ics-check not found at {ICS_CHECK} (no ../shared here)"
)


def _unfolded(data: bytes) -> str:
    return data.replace(b"\r\n ", b"").decode("utf-8")


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FEEDS)
def test_feed_headers(client: TestClient, path: str) -> None:
    response = client.get(path, headers=PLAIN)
    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=21600"  # the 6-hour refresh hint
    disposition = headers["content-disposition"]
    assert disposition.startswith('inline; filename="') and disposition.endswith('.ics"')
    etag = headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10  # strong
    assert parsedate_to_datetime(headers["last-modified"]).tzinfo is not None
    assert "accept-encoding" in headers["vary"].lower()
    assert "content-encoding" not in headers
    assert int(headers["content-length"]) == len(response.content)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n" in response.text


def test_filenames_name_the_feed(client: TestClient) -> None:
    expected = {
        "/calendar.ics": "u4ssc.ics",
        f"/groups/{GROUP}/calendar.ics": f"u4ssc-{GROUP}.ics",
        f"/meetings/{GROUP}-2023-07-27.ics": f"{GROUP}-2023-07-27.ics",
    }
    for path, name in expected.items():
        assert client.get(path).headers["content-disposition"] == f'inline; filename="{name}"'


@pytest.mark.parametrize("path", FEEDS)
def test_if_none_match_gives_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    etag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=21600"
    listed = client.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304
    stale = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200
    assert stale.content == first.content


@pytest.mark.parametrize("path", FEEDS)
def test_if_modified_since_gives_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    last_modified = first.headers["last-modified"]
    same = client.get(path, headers={"If-Modified-Since": last_modified})
    assert same.status_code == 304
    assert same.content == b""
    later = parsedate_to_datetime(last_modified) + dt.timedelta(days=1)
    newer = client.get(path, headers={"If-Modified-Since": format_datetime(later, usegmt=True)})
    assert newer.status_code == 304
    earlier = parsedate_to_datetime(last_modified) - dt.timedelta(seconds=1)
    older = client.get(path, headers={"If-Modified-Since": format_datetime(earlier, usegmt=True)})
    assert older.status_code == 200
    assert older.content == first.content
    # A malformed date is ignored, not an error.
    assert client.get(path, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_a_write_changes_etag_and_ends_the_304(client: TestClient) -> None:
    path = f"/groups/{GROUP}/calendar.ics"
    before = client.get(path)
    create_meeting(client, group=GROUP, date="2027-02-04", start_time="10:00", end_time="11:00")
    after = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    untouched = client.get("/groups/procurement/calendar.ics")
    assert (
        client.get(
            "/groups/procurement/calendar.ics", headers={"If-None-Match": untouched.headers["etag"]}
        ).status_code
        == 304
    )


@pytest.mark.parametrize("path", FEEDS)
def test_head_answers_the_headers_without_a_body(client: TestClient, path: str) -> None:
    get = client.get(path, headers=PLAIN)
    head = client.head(path, headers=PLAIN)
    assert head.status_code == 200
    assert head.content == b""
    for name in (
        "content-type",
        "etag",
        "last-modified",
        "cache-control",
        "content-disposition",
        "content-length",
    ):
        assert head.headers[name] == get.headers[name], name
    assert client.head(path, headers={"If-None-Match": get.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("path", FEEDS)
def test_gzip_when_asked(client: TestClient, path: str) -> None:
    plain = client.get(path, headers=PLAIN).content
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
        headers = response.headers
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(raw) < len(plain)
    assert gzip.decompress(raw) == plain
    # One content, two codings: two strong ETags (RFC 9110 8.8.3), either one revalidates.
    identity_tag = client.get(path, headers=PLAIN).headers["etag"]
    assert headers["etag"] == identity_tag[:-1] + '-gzip"'
    for held in (identity_tag, headers["etag"]):
        for coding, expected in (("gzip", headers["etag"]), ("identity", identity_tag)):
            again = client.get(path, headers={"If-None-Match": held, "Accept-Encoding": coding})
            assert again.status_code == 304, (held, coding)
            assert again.headers["etag"] == expected, (held, coding)


def test_cors_on_feeds_and_json_gets(client: TestClient) -> None:
    uid = all_meetings(client)[0]["uid"]
    paths = [*FEEDS, "/api/groups", f"/api/groups/{GROUP}", "/api/meetings", f"/api/meetings/{uid}"]
    for path in paths:
        response = client.get(path, headers=ORIGIN)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path
    exposed = client.get(FEEDS[0], headers=ORIGIN).headers["access-control-expose-headers"]
    assert "etag" in exposed.lower()
    preflight = client.options(
        FEEDS[1],
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "path", ["/groups/no-such-group/calendar.ics", "/meetings/no-such-meeting.ics"]
)
def test_unknown_feed_is_404(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404)


def test_unknown_group_in_combined_feed_is_422(client: TestClient) -> None:
    assert_error(client.get("/calendar.ics?group=no-such-group"), 422, "group")


# --- the cancelled and alarm parameters -------------------------------------------------------


def _cancel(client: TestClient, uid: str) -> dict[str, Any]:
    response = client.delete(f"/api/meetings/{uid}", headers=AUTH)
    assert response.status_code == 200, response.text
    meeting: dict[str, Any] = response.json()
    return meeting


def test_cancelled_meetings_stay_marked_then_leave(client: TestClient) -> None:
    today = dt.datetime.now(dt.UTC).date()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    recent = create_meeting(
        client, group=GROUP, date=day(-30), start_time="10:00", end_time="11:00"
    )
    coming = create_meeting(client, group=GROUP, date=day(10), start_time="14:00", end_time="15:00")
    old = create_meeting(client, group=GROUP, date=day(-100), start_time="10:00", end_time="11:00")
    old_held = create_meeting(client, group=GROUP, date=day(-100))
    for meeting in (recent, coming, old):
        cancelled = _cancel(client, meeting["uid"])
        assert cancelled["status"] == "cancelled"
        assert cancelled["sequence"] == meeting["sequence"] + 1

    def uids(events: list[Any]) -> dict[str, Any]:
        return {event.uid.removesuffix(f"@{UID_DOMAIN}"): event for event in events}

    for path in (
        "/calendar.ics",
        f"/groups/{GROUP}/calendar.ics",
        "/groups/ai-in-cities/calendar.ics",
    ):
        data = client.get(path).content
        shown = uids(agreed_events(data))
        for meeting in (recent, coming):
            event = shown[meeting["uid"]]
            assert event.status == "CANCELLED"
            assert event.summary.startswith("Cancelled: U4SSC ")
            assert event.sequence == meeting["sequence"] + 1
        assert old["uid"] not in shown  # cancelled more than 90 days ago
        assert shown[old_held["uid"]].status == "CONFIRMED"  # only cancelled ones leave
        text = _unfolded(data)
        assert text.count("STATUS:CANCELLED\r\n") == 2
        hidden = uids(agreed_events(client.get(f"{path}?cancelled=hide").content))
        assert recent["uid"] not in hidden and coming["uid"] not in hidden
        assert old_held["uid"] in hidden
        assert all(event.status != "CANCELLED" for event in hidden.values())
    # A single meeting's own feed always answers, cancelled or not.
    (event,) = agreed_events(client.get(f"/meetings/{old['uid']}.ics").content)
    assert event.status == "CANCELLED"


def test_cancelled_hide_drops_a_cancellation_at_once(client: TestClient) -> None:
    path = f"/groups/{GROUP}/calendar.ics?cancelled=hide"
    meeting = create_meeting(
        client, group=GROUP, date="2027-01-14", start_time="10:00", end_time="11:00"
    )
    uid = f"{meeting['uid']}@{UID_DOMAIN}"
    assert uid in {e.uid for e in agreed_events(client.get(path).content)}
    _cancel(client, meeting["uid"])
    assert uid not in {e.uid for e in agreed_events(client.get(path).content)}
    shown = {e.uid: e for e in agreed_events(client.get(f"/groups/{GROUP}/calendar.ics").content)}
    assert shown[uid].status == "CANCELLED"


def test_alarm_adds_a_valarm_to_timed_events_only(client: TestClient) -> None:
    create_meeting(client, group=GROUP, date="2027-01-21")  # all-day
    data = client.get(f"/groups/{GROUP}/calendar.ics?alarm=15").content
    events = agreed_events(data)
    assert {event.all_day for event in events} == {True, False}
    for event in events:
        assert event.alarms == (() if event.all_day else ("-PT15M",))
    text = _unfolded(data)
    timed = sum(1 for event in events if not event.all_day)
    assert text.count("BEGIN:VALARM\r\nACTION:DISPLAY\r\n") == timed
    assert text.count("TRIGGER;RELATED=START:-PT15M\r\n") == timed
    without = client.get(f"/groups/{GROUP}/calendar.ics").content
    assert b"VALARM" not in without
    assert (
        client.get(f"/groups/{GROUP}/calendar.ics?alarm=15").headers["etag"]
        != (client.get(f"/groups/{GROUP}/calendar.ics").headers["etag"])
    )


@pytest.mark.parametrize("value", ["1441", "-1", "x", "15.5", ""])
@pytest.mark.parametrize("path", FEEDS)
def test_bad_alarm_is_422(client: TestClient, path: str, value: str) -> None:
    joiner = "&" if "?" in path else "?"
    assert_error(client.get(f"{path}{joiner}alarm={value}"), 422, "alarm")


@pytest.mark.parametrize("path", FEEDS[:3])
def test_bad_cancelled_is_422(client: TestClient, path: str) -> None:
    joiner = "&" if "?" in path else "?"
    assert_error(client.get(f"{path}{joiner}cancelled=sometimes"), 422, "cancelled")


# --- real processes ------------------------------------------------------------------------------


def _get(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=30, headers=PLAIN)
    assert response.status_code == 200, response.text
    return response


def _same_feed(urls: list[str]) -> httpx.Response:
    answers = [_get(url) for url in urls]
    first = answers[0]
    for other in answers[1:]:
        assert other.content == first.content
        assert other.headers["etag"] == first.headers["etag"]
        assert other.headers["last-modified"] == first.headers["last-modified"]
    return first


def test_two_processes_serve_the_same_bytes_and_etag(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_BASE_URL": BASE_URL}
    with running_servers(env, tmp_path, count=2) as (one, two):
        paths = ["/calendar.ics", f"/groups/{GROUP}/calendar.ics"]
        before = {path: _same_feed([one.url + path, two.url + path]) for path in paths}
        meeting = {"group": GROUP, "date": "2027-05-06", "start_time": "16:00", "end_time": "17:00"}
        created = httpx.post(one.url + "/api/meetings", json=meeting, headers=AUTH, timeout=30)
        assert created.status_code == 201, created.text
        uid = f"UID:{created.json()['uid']}@{UID_DOMAIN}\r\n"
        for path in paths:
            # The other process first, so it cannot have been warmed by the write; it sees the
            # write within a second (app.core.revision_watch), the writer at once.
            assert uid in _unfolded(_get(one.url + path).content)
            within(
                OTHER_PROCESS_SECONDS,
                lambda path=path: _get(two.url + path).content,  # type: ignore[misc]
                lambda body: uid in _unfolded(body),
            )
            after = _same_feed([two.url + path, one.url + path])
            assert after.headers["etag"] != before[path].headers["etag"]
            assert uid in _unfolded(after.content)
            assert uid not in _unfolded(before[path].content)


# --- ics-check -----------------------------------------------------------------------------------


def _ics_check(*targets: str) -> str:
    result = subprocess.run(
        [str(ICS_CHECK), *targets], capture_output=True, text=True, check=False, timeout=900
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ERROR" not in output, output
    assert "WARN" not in output, output
    return output


def _varied_feeds(client: TestClient) -> list[bytes]:
    """Every feed, after meetings that stress clients: a cancelled one with text to escape, both
    DST changes in Geneva, one in New York; with alarms, and with cancelled ones hidden."""
    today = dt.datetime.now(dt.UTC).date()
    kept = create_meeting(
        client,
        group=GROUP,
        title="Cancelled, kept; shown",
        date=(today - dt.timedelta(days=5)).isoformat(),
        start_time="10:00",
        end_time="11:00",
        description="Text with \\ , ; and 城市 🙂\nand a second line",
        join_url="https://meet.example.org/j/1?a=b,c",
    )
    _cancel(client, kept["uid"])
    create_meeting(client, group=GROUP, date="2024-03-31", start_time="10:00", end_time="11:00")
    create_meeting(client, group=GROUP, date="2024-10-27", start_time="10:00", end_time="11:00")
    create_meeting(
        client,
        group="procurement",
        date="2024-03-10",
        start_time="10:00",
        end_time="11:00",
        timezone="America/New_York",
    )
    paths = feed_paths(client)
    paths += ["/calendar.ics?alarm=15", f"/groups/{GROUP}/calendar.ics?alarm=0&cancelled=hide"]
    return [client.get(path).content for path in paths]


def test_libical_and_ics_read_every_feed(client: TestClient) -> None:
    feeds = _varied_feeds(client)
    assert_strictly_valid(feeds)
    everything = feeds[0]
    assert len(icalendar_starts(everything)) == len(all_meetings(client)) == 22


@needs_ics_check
def test_ics_check_passes_every_feed(client: TestClient, tmp_path: Path) -> None:
    files = []
    for n, feed in enumerate(_varied_feeds(client)):
        file = tmp_path / f"feed-{n:03d}.ics"
        file.write_bytes(feed)
        files.append(str(file))
    output = _ics_check(*files)
    assert output.count("0 error(s), 0 warning(s)") >= len(files)


@needs_ics_check
def test_ics_check_passes_feeds_served_over_http(database_url: str, tmp_path: Path) -> None:
    """Over HTTP the tool also checks Content-Type, the ETag and the 304."""
    env = {"DATABASE_URL": database_url, "ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_BASE_URL": BASE_URL}
    with running_servers(env, tmp_path) as (server,):
        _ics_check(*(server.url + path for path in FEEDS))


def test_every_group_and_meeting_links_its_feed_and_webcal_twin(client: TestClient) -> None:
    groups = client.get("/api/groups", params={"limit": 1000}).json()["data"]
    for item in [*groups, *all_meetings(client)]:
        url, webcal = item["feed_url"], item["webcal_url"]
        assert url.startswith(f"{BASE_URL}/") and url.endswith(".ics")
        assert webcal == "webcal://" + url.removeprefix("https://")
        served = client.get(url.removeprefix(BASE_URL))
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/calendar; charset=utf-8"
