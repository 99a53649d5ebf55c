"""Feeds as calendar apps read them: four parsers agree, right instants, required properties,
text that survives, and a reference file compared byte for byte."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
import yaml
from fastapi.testclient import TestClient
from ical.calendar_stream import IcsCalendarStream
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.store import seeding
from tests.conftest import ADMIN_TOKEN, AUTH, BASE_URL
from tests.ical_parsers import JS_DIR
from tests.utils.feeds import (
    UID_DOMAIN,
    agreed_events,
    all_meetings,
    assert_lines_well_formed,
    create_meeting,
    expected_times,
    feed_paths,
    group_slugs,
)

STATIC = Path(__file__).resolve().parents[1] / "static"
REFERENCE_GROUP = "ai-in-cities-wg2"
REFERENCE = STATIC / f"{REFERENCE_GROUP}.ics"
FIXED_STAMP = "2023-06-01T09:00:00+00:00"

# Geneva wall clock -> the instant every parser must see. The DST days are 2024's.
TIMED = {
    "summer": ("2024-07-11", "16:00", "17:00", "2024-07-11T14:00:00Z"),
    "winter": ("2024-12-12", "10:00", "11:00", "2024-12-12T09:00:00Z"),
    "spring-forward day": ("2024-03-31", "10:00", "11:00", "2024-03-31T08:00:00Z"),
    "fall-back day": ("2024-10-27", "10:00", "11:00", "2024-10-27T09:00:00Z"),
}


@pytest.fixture
def dated(client: TestClient) -> dict[str, dict[str, Any]]:
    """A summer, a winter and a DST-day meeting each way, an all-day one and a New York one."""
    made = {
        label: create_meeting(
            client,
            group=REFERENCE_GROUP,
            title=f"{label} meeting",
            date=day,
            start_time=start,
            end_time=end,
        )
        for label, (day, start, end, _) in TIMED.items()
    }
    made["all day"] = create_meeting(client, group="ai-in-cities", date="2024-05-02")
    made["new york"] = create_meeting(
        client,
        group="procurement",
        date="2024-03-10",  # the US springs forward this day, Europe a fortnight later
        start_time="10:00",
        end_time="11:00",
        timezone="America/New_York",
    )
    return made


def feed(client: TestClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    data: bytes = response.content
    return data


# --- four parsers, every feed ------------------------------------------------------------------


def test_every_feed_reads_the_same_in_four_parsers_and_matches_the_store(
    client: TestClient, dated: dict[str, dict[str, Any]]
) -> None:
    by_uid = {f"{m['uid']}@{UID_DOMAIN}": m for m in all_meetings(client)}
    paths = feed_paths(client)
    assert len(paths) == 2 + len(group_slugs(client)) + len(by_uid)
    for path in paths:
        data = feed(client, path)
        assert_lines_well_formed(data)
        events = agreed_events(data)
        assert len({event.uid for event in events}) == len(events), f"{path}: a duplicate"
        for event in events:
            meeting = by_uid[event.uid]
            assert (event.start, event.end) == expected_times(meeting), (path, event)
            assert event.all_day == meeting["all_day"]
            assert event.sequence == meeting["sequence"]
            assert event.status == meeting["status"].upper()
            assert event.alarms == ()


def test_feeds_hold_exactly_the_meetings_of_their_groups(
    client: TestClient, dated: dict[str, dict[str, Any]]
) -> None:
    for slug in group_slugs(client):
        events = agreed_events(feed(client, f"/groups/{slug}/calendar.ics"))
        expected = {f"{m['uid']}@{UID_DOMAIN}" for m in all_meetings(client, slug)}
        assert {event.uid for event in events} == expected, slug
    combined = agreed_events(feed(client, "/calendar.ics?group=ai-in-cities&group=procurement"))
    expected = {
        f"{m['uid']}@{UID_DOMAIN}" for m in all_meetings(client, "ai-in-cities", "procurement")
    }
    assert {event.uid for event in combined} == expected
    assert f"{dated['new york']['uid']}@{UID_DOMAIN}" in expected
    everything = agreed_events(feed(client, "/calendar.ics"))
    assert len(everything) == len(all_meetings(client))


@pytest.mark.parametrize("label", list(TIMED))
def test_summer_winter_and_dst_day_meetings_at_their_instants(
    client: TestClient, dated: dict[str, dict[str, Any]], label: str
) -> None:
    meeting = dated[label]
    utc = TIMED[label][3]
    assert meeting["start_utc"].replace("+00:00", "Z") == utc
    for path in (
        f"/meetings/{meeting['uid']}.ics",
        f"/groups/{REFERENCE_GROUP}/calendar.ics",
        "/calendar.ics",
    ):
        (event,) = [
            e for e in agreed_events(feed(client, path)) if e.uid.startswith(meeting["uid"])
        ]
        assert event.start == utc, path


def test_a_meeting_in_another_zone_carries_that_zone(
    client: TestClient, dated: dict[str, dict[str, Any]]
) -> None:
    meeting = dated["new york"]
    data = feed(client, f"/meetings/{meeting['uid']}.ics")
    text = data.decode()
    assert "DTSTART;TZID=America/New_York:20240310T100000\r\n" in text
    assert "TZID:America/New_York\r\n" in text
    assert "TZID:Europe/Zurich\r\n" not in text  # only the zones its events use
    assert "X-WR-TIMEZONE:America/New_York\r\n" in text  # never a zone no event is in
    (event,) = agreed_events(data)
    assert event.start == "2024-03-10T14:00:00Z"  # EDT, UTC-4, from 03:00 that morning
    global_feed = feed(client, "/calendar.ics").decode()
    assert global_feed.count("BEGIN:VTIMEZONE") == 2
    assert "X-WR-TIMEZONE:Europe/Zurich\r\n" in global_feed


def test_all_day_meetings_are_dates_and_transparent(
    client: TestClient, dated: dict[str, dict[str, Any]]
) -> None:
    meeting = dated["all day"]
    data = feed(client, f"/meetings/{meeting['uid']}.ics")
    (event,) = agreed_events(data)
    assert (event.all_day, event.start, event.end) == (True, "2024-05-02", "2024-05-03")
    text = data.decode()
    assert "DTSTART;VALUE=DATE:20240502\r\n" in text
    assert "DTEND;VALUE=DATE:20240503\r\n" in text
    assert "TRANSP:TRANSPARENT\r\n" in text
    # A date-only feed needs no zone at all.
    assert "BEGIN:VTIMEZONE" not in text


@pytest.mark.parametrize("minutes", [0, 15, 1440])
def test_alarm_reminds_before_timed_meetings_only(
    client: TestClient, dated: dict[str, dict[str, Any]], minutes: int
) -> None:
    trigger = {0: "PT0S", 15: "-PT15M", 1440: "-P1D"}[minutes]
    for path in (
        "/calendar.ics",
        "/groups/ai-in-cities/calendar.ics",
        "/calendar.ics?group=ai-in-cities&group=procurement",
    ):
        events = agreed_events(feed(client, f"{path}{'&' if '?' in path else '?'}alarm={minutes}"))
        assert events
        for event in events:
            assert event.alarms == (() if event.all_day else (trigger,)), event
    single = dated["summer"]["uid"]
    (event,) = agreed_events(feed(client, f"/meetings/{single}.ics?alarm={minutes}"))
    assert event.alarms == (trigger,)


# --- what the feed says ------------------------------------------------------------------------


def _calendar(data: bytes) -> Any:
    """Parsed by icalendar, untyped: its property types are a union of 30 value classes."""
    return icalendar.Calendar.from_ical(data)


def test_calendar_properties(client: TestClient) -> None:
    cal = _calendar(feed(client, f"/groups/{REFERENCE_GROUP}/calendar.ics"))
    assert cal["PRODID"] == "-//U4SSC//U4SSC meeting calendar//EN"
    assert cal["VERSION"] == "2.0"
    assert cal["CALSCALE"] == "GREGORIAN"
    assert cal["METHOD"] == "PUBLISH"
    assert cal["NAME"] == cal["X-WR-CALNAME"] == "U4SSC: Autonomous Cities (WG2)"
    assert "Autonomous Cities" in cal["DESCRIPTION"]
    # icalendar keeps X- values escaped: compare the two lines as written.
    unfolded = feed(client, f"/groups/{REFERENCE_GROUP}/calendar.ics").replace(b"\r\n ", b"")
    lines = dict(line.split(b":", 1) for line in unfolded.split(b"\r\n")[:12] if b":" in line)
    assert lines[b"X-WR-CALDESC"] == lines[b"DESCRIPTION"]
    assert cal["X-WR-TIMEZONE"] == "Europe/Zurich"
    assert cal["REFRESH-INTERVAL"].dt == dt.timedelta(hours=6)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["X-PUBLISHED-TTL"] == "PT6H"
    assert cal["SOURCE"] == f"{BASE_URL}/groups/{REFERENCE_GROUP}/calendar.ics"
    combined = _calendar(feed(client, "/calendar.ics?group=ai-in-cities-wg2&group=procurement"))
    assert combined["X-WR-CALNAME"] == ("U4SSC: Autonomous Cities (WG2) + Procurement")
    assert combined["SOURCE"] == (
        f"{BASE_URL}/calendar.ics?group=ai-in-cities-wg2&group=procurement"
    )
    assert _calendar(feed(client, "/calendar.ics"))["X-WR-CALNAME"] == "U4SSC meetings"


def test_event_properties(client: TestClient) -> None:
    made = create_meeting(
        client,
        group=REFERENCE_GROUP,
        date="2024-06-20",
        start_time="15:00",
        end_time="16:30",
        join_url="https://meet.example.org/u4ssc?id=42",
    )
    cal = _calendar(feed(client, "/calendar.ics"))
    events = cal.walk("VEVENT")
    assert len(events) == len(all_meetings(client))
    for event in events:
        assert str(event["UID"]).endswith(f"@{UID_DOMAIN}")
        for name in ("DTSTAMP", "CREATED", "LAST-MODIFIED", "SEQUENCE", "STATUS", "SUMMARY"):
            assert name in event, (name, event["UID"])
        assert event["ORGANIZER"] == "mailto:u4ssc@itu.int"
        joined = str(event["UID"]).startswith(made["uid"])
        assert event["LOCATION"] == (made["join_url"] if joined else "Online")
        assert str(event["URL"]).startswith(f"{BASE_URL}/groups/")
        assert "U4SSC" in event["CATEGORIES"].cats
    (event,) = [e for e in events if str(e["UID"]) == f"{made['uid']}@{UID_DOMAIN}"]
    assert event["CATEGORIES"].cats == [
        "U4SSC",
        "Artificial intelligence in cities",
        "WG2 Autonomous Cities",
    ]
    assert event["SUMMARY"] == "U4SSC AI in cities WG2 Autonomous Cities: e-meeting"
    assert event["CONFERENCE"] == "https://meet.example.org/u4ssc?id=42"
    assert event["CONFERENCE"].params["VALUE"] == "URI"
    assert event["TRANSP"] == "OPAQUE"
    description = str(event["DESCRIPTION"])
    for fragment in (
        "Thematic group: Artificial intelligence in cities",
        "Working group: WG2 Autonomous Cities",
        "Leaders: Okan Geray (Digital Dubai)",
        "Time: 20 June 2024, 15:00-16:30 Geneva time (CEST, UTC+02:00)",
        "UTC: 13:00-14:30 UTC (20 June 2024)",
        "Join: https://meet.example.org/u4ssc?id=42",
        f"More: {BASE_URL}/groups/{REFERENCE_GROUP}#meeting-{made['uid']}",
    ):
        assert fragment in description, fragment
    without_link = [e for e in events if str(e["UID"]) != f"{made['uid']}@{UID_DOMAIN}"]
    assert all("CONFERENCE" not in e and "Join:" not in str(e["DESCRIPTION"]) for e in without_link)


def test_winter_description_says_cet(client: TestClient) -> None:
    made = create_meeting(
        client, group=REFERENCE_GROUP, date="2024-01-18", start_time="09:00", end_time="10:00"
    )
    cal = _calendar(feed(client, f"/meetings/{made['uid']}.ics"))
    description = str(cal.walk("VEVENT")[0]["DESCRIPTION"])
    assert "Time: 18 January 2024, 09:00-10:00 Geneva time (CET, UTC+01:00)" in description
    assert "UTC: 08:00-09:00 UTC (18 January 2024)" in description


def test_reschedule_keeps_the_uid_and_raises_sequence(client: TestClient) -> None:
    made = create_meeting(
        client, group=REFERENCE_GROUP, date="2024-07-11", start_time="16:00", end_time="17:00"
    )
    uid = f"{made['uid']}@{UID_DOMAIN}"
    paths = [f"/meetings/{made['uid']}.ics", f"/groups/{REFERENCE_GROUP}/calendar.ics"]
    before = {
        path: [e for e in agreed_events(feed(client, path)) if e.uid == uid] for path in paths
    }
    moved = client.patch(
        f"/api/meetings/{made['uid']}",
        json={"date": "2024-11-07", "start_time": "11:00", "end_time": "12:00"},
        headers=AUTH,
    )
    assert moved.status_code == 200, moved.text
    for path in paths:
        (old,) = before[path]
        (new,) = [e for e in agreed_events(feed(client, path)) if e.uid == uid]
        assert new.sequence > old.sequence
        assert (new.start, new.end) == ("2024-11-07T10:00:00Z", "2024-11-07T11:00:00Z")
    cal = _calendar(feed(client, paths[0]))
    event = cal.walk("VEVENT")[0]
    modified: dt.datetime = event["LAST-MODIFIED"].dt
    created: dt.datetime = event["CREATED"].dt
    assert modified >= created


# --- text ---------------------------------------------------------------------------------------

NASTY = (
    "Agenda: items 1, 2; 3 \\ backslash, literal \\N and \\n, «quotes»\n"
    "line two 🙂 城市 智能\n\nend"
)
NASTY_TITLE = "Plan, review; C:\\path \\N 🙂 城市 — “ok”"


def _icaljs_descriptions(data: bytes) -> list[str]:
    node = shutil.which("node")
    assert node is not None, "node is needed for ical.js"
    script = (
        "import ICAL from 'ical.js'; import {readFileSync} from 'node:fs';"
        "const c = new ICAL.Component(ICAL.parse(readFileSync(0, 'utf8')));"
        "console.log(JSON.stringify(c.getAllSubcomponents('vevent')"
        ".map(e => e.getFirstPropertyValue('description'))));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=data,
        capture_output=True,
        check=True,
        cwd=JS_DIR,
        timeout=60,
    )
    descriptions: list[str] = json.loads(result.stdout)
    return descriptions


def test_text_survives_every_parser(client: TestClient) -> None:
    made = create_meeting(
        client,
        group=REFERENCE_GROUP,
        title=NASTY_TITLE,
        date="2024-09-12",
        start_time="14:00",
        end_time="15:00",
        description=NASTY,
    )
    data = feed(client, f"/meetings/{made['uid']}.ics")
    assert_lines_well_formed(data)
    (event,) = agreed_events(data)
    assert event.summary == f"U4SSC AI in cities WG2 Autonomous Cities: {NASTY_TITLE}"
    descriptions = {
        "icalendar": str(_calendar(data).walk("VEVENT")[0]["DESCRIPTION"]),
        "ical": IcsCalendarStream.calendar_from_ics(data.decode()).events[0].description,
        "vobject": vobject.readOne(data.decode()).vevent.description.value,
        "icaljs": _icaljs_descriptions(data)[0],
    }
    for parser, description in descriptions.items():
        assert description is not None, parser
        assert f"\n\n{NASTY}\n\nMore: " in description, (parser, description)
    group_feed = feed(client, f"/groups/{REFERENCE_GROUP}/calendar.ics")
    assert_lines_well_formed(group_feed)
    agreed_events(group_feed)


# --- determinism --------------------------------------------------------------------------------


def _seed_with_fixed_stamps(tmp_path: Path) -> Path:
    """The bundled plan with every meeting's history fixed, plus meetings that show each kind of
    event (all-day, tentative, a join link, awkward text) in the reference group."""
    plan = yaml.safe_load(seeding.bundled_seed().read_text(encoding="utf-8"))
    extra = [
        {"uid": "ai-in-cities-wg2-2024-03-31", "date": "2024-03-31", "start_time": "10:00",
         "end_time": "11:00", "status": "tentative", "title": "Kick-off, part 1; agenda",
         "description": "Bring: draft \\ outline, ideas 🙂\nSecond line 城市",
         "join_url": "https://meet.example.org/j/123?pwd=a,b"},
        {"uid": "ai-in-cities-wg2-2024-12-05", "date": "2024-12-05", "title": "Writing day"},
    ]  # fmt: skip
    for thematic in plan["thematic_groups"]:
        for group in [thematic, *thematic.get("working_groups", [])]:
            if group["slug"] == REFERENCE_GROUP:
                group["meetings"].extend(extra)
            for meeting in group.get("meetings", []):
                meeting["created_at"] = FIXED_STAMP
                meeting["updated_at"] = FIXED_STAMP
    path = tmp_path / "seed-fixed.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def fixed_client(empty_database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=empty_database_url,
        admin_token=ADMIN_TOKEN,
        public_base_url=BASE_URL,
        seed_file=_seed_with_fixed_stamps(tmp_path),
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_group_feed_matches_the_reference_file_byte_for_byte(fixed_client: TestClient) -> None:
    data = feed(fixed_client, f"/groups/{REFERENCE_GROUP}/calendar.ics")
    # To refresh after an intended change: write `data` to REFERENCE and review the diff.
    assert data == REFERENCE.read_bytes()
    assert_lines_well_formed(data)
    assert len(agreed_events(data)) == 4


def test_seeding_twice_leaves_the_feed_bytes_unchanged(client: TestClient, engine: Engine) -> None:
    before = feed(client, "/calendar.ics")
    with Session(engine) as session:
        assert seeding.load(session) == []
    assert feed(client, "/calendar.ics") == before
    group = feed(client, f"/groups/{REFERENCE_GROUP}/calendar.ics")
    with Session(engine) as session:
        seeding.load(session)
    assert feed(client, f"/groups/{REFERENCE_GROUP}/calendar.ics") == group
