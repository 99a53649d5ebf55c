"""The seeded store against the action plan itself: nothing lost, nothing invented."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

# The plan's own text, as published: the facts the seed is checked against.
SOURCE = Path(__file__).resolve().parents[1] / "static" / "u4ssc-action-plan-2023-2024.txt"

# Transcribed from the plan's tables: code -> (parent, status, leaders).
WORKING_GROUPS: dict[str, tuple[str, str, list[tuple[str, str | None]]]] = {
    "city-platforms-wg1": (
        "city-platforms",
        "completed",
        [("Ramon Ferri", "SEGITTUR"), ("City of Valencia", None)],
    ),
    "city-platforms-wg2": ("city-platforms", "completed", [("Leonidas Anthopoulos", "Greece")]),
    "city-platforms-wg3": (
        "city-platforms",
        "completed",
        [("Martin Brynskov", "OASC"), ("Michael Mulquin", "OASC")],
    ),
    "city-platforms-wg4": ("city-platforms", "completed", [("Alberto Bernal", "Indra Minsait")]),
    "city-platforms-wg5": (
        "city-platforms",
        "to_be_published",
        [("Ramon Ferri", "SEGITTUR"), ("City of Valencia", None)],
    ),
    "city-platforms-wg6": ("city-platforms", "ongoing", [("Leonidas Anthopoulos", "Greece")]),
    "city-platforms-wg7": (
        "city-platforms",
        "to_be_kicked_off",
        [("Sandra Carvao", "UNWTO"), ("Ramon Ferri", "SEGITTUR")],
    ),
    "ai-in-cities-wg1": ("ai-in-cities", "to_be_published", [("Okan Geray", "Digital Dubai")]),
    "ai-in-cities-wg2": ("ai-in-cities", "to_be_kicked_off", [("Okan Geray", "Digital Dubai")]),
    "procurement-wg1": (
        "procurement",
        "completed",
        [
            ("Warren Smith", "Dangersmith SARL and CURSHAW"),
            ("John Davies", "Strategy 4 Technology Limited"),
        ],
    ),
    "procurement-wg2": (
        "procurement",
        "to_be_kicked_off",
        [
            ("Warren Smith", "Dangersmith SARL and CURSHAW"),
            ("John Davies", "Strategy 4 Technology Limited"),
            ("City (TBC)", None),
        ],
    ),
    "people-centred-cities-wg1": (
        "people-centred-cities",
        "ongoing",
        [("Okan Geray", "Digital Dubai"), ("Pontus Westerberg", "UN-Habitat")],
    ),
    "people-centred-cities-wg2": (
        "people-centred-cities",
        "ongoing",
        [("Bettina Tratz-Ryan", "Gartner"), ("Mythili Menon", "ITU")],
    ),
    "people-centred-cities-wg3": (
        "people-centred-cities",
        "ongoing",
        [
            ("John Smiciklas", "JD Global Sustainability Associates"),
            ("Victoria Schmid", "Austrian Economic Center"),
        ],
    ),
    "people-centred-cities-wg4": (
        "people-centred-cities",
        "ongoing",
        [("Leonidas Anthopoulos", "Greece")],
    ),
    "people-centred-cities-wg5": (
        "people-centred-cities",
        "closed",
        [("Paolo Gemma", "Huawei"), ("Shuguang Qi", "CAICT, China")],
    ),
}

# Meeting -> (Geneva date, UTC start, UTC end) or (date, None, None) for date-only ones.
MEETINGS: dict[str, tuple[str, str | None, str | None]] = {
    "city-platforms-wg6-2023-07-14": ("2023-07-14", None, None),
    "city-platforms-wg6-2023-09-22": ("2023-09-22", None, None),
    "city-platforms-wg7-2023-09-19": ("2023-09-19", None, None),
    "city-platforms-wg7-2023-10-17": ("2023-10-17", None, None),
    "ai-in-cities-wg2-2023-07-27": ("2023-07-27", "2023-07-27T14:00:00Z", "2023-07-27T15:00:00Z"),
    "ai-in-cities-wg2-2023-09-28": ("2023-09-28", "2023-09-28T14:00:00Z", "2023-09-28T15:00:00Z"),
    "procurement-wg2-2023-07-20": ("2023-07-20", None, None),
    "procurement-wg2-2023-08-17": ("2023-08-17", None, None),
    "procurement-wg2-2023-09-20": ("2023-09-20", None, None),
    "procurement-wg2-2023-10-19": ("2023-10-19", None, None),
    "procurement-wg2-2023-11-16": ("2023-11-16", None, None),
    "procurement-wg2-2023-12-21": ("2023-12-21", None, None),
    "people-centred-cities-wg1-2023-07-27": (
        "2023-07-27",
        "2023-07-27T12:30:00Z",
        "2023-07-27T13:30:00Z",
    ),
    "people-centred-cities-wg1-2023-09-28": (
        "2023-09-28",
        "2023-09-28T12:30:00Z",
        "2023-09-28T13:30:00Z",
    ),
    "people-centred-cities-wg2-2023-06-21": (
        "2023-06-21",
        "2023-06-21T11:30:00Z",
        "2023-06-21T12:30:00Z",
    ),
    "people-centred-cities-wg2-2023-07-12": (
        "2023-07-12",
        "2023-07-12T12:00:00Z",
        "2023-07-12T13:00:00Z",
    ),
    "people-centred-cities-wg2-2023-07-27": (
        "2023-07-27",
        "2023-07-27T12:30:00Z",
        "2023-07-27T13:30:00Z",
    ),
    "digital-wellbeing-2023-09-21": ("2023-09-21", "2023-09-21T12:30:00Z", "2023-09-21T13:30:00Z"),
}


def _all(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = client.get(path + ("&" if "?" in path else "?") + "limit=1000")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["data"])
    data: list[dict[str, Any]] = body["data"]
    return data


def test_counts_match_the_plan(client: TestClient) -> None:
    groups = _all(client, "/api/groups")
    assert len([g for g in groups if g["kind"] == "thematic"]) == 6
    assert len([g for g in groups if g["kind"] == "working"]) == 16
    meetings = _all(client, "/api/meetings")
    assert len(meetings) == 18
    assert len([m for m in meetings if m["all_day"]]) == 10


def test_thematic_groups(client: TestClient) -> None:
    groups = {g["slug"]: g for g in _all(client, "/api/groups?kind=thematic")}
    assert {g["name"] for g in groups.values()} == {
        "City Platforms",
        "Lessons learned from building urban economic resilience at city level during and "
        "after COVID-19",
        "Artificial intelligence in cities",
        "Procurement for Smart Sustainable Cities",
        "Enabling People-Centred Cities through Digital Transformation",
        "Digital Wellbeing",
    }
    assert groups["urban-economic-resilience"]["secretariat"] == "UNECE"
    assert groups["urban-economic-resilience"]["leaders"] == [
        {"name": "Gulnara Roll", "affiliation": "UNECE"}
    ]
    assert any(
        "commence its activities in 2024" in n for n in groups["urban-economic-resilience"]["notes"]
    )
    assert groups["digital-wellbeing"]["status"] == "proposed"
    assert any("To Be Determined" in n for n in groups["digital-wellbeing"]["notes"])
    assert groups["ai-in-cities"]["timeline"] == "2021-2024"
    assert groups["ai-in-cities"]["expected_publication"] == "2023/2024"
    assert [leader["name"] for leader in groups["people-centred-cities"]["leaders"]] == [
        "Barbara Kolm",
        "Okan Geray",
        "Pontus Westerberg",
        "Cristina Bueti",
    ]
    assert groups["city-platforms"]["working_groups"] == [
        f"city-platforms-wg{n}" for n in range(1, 8)
    ]


@pytest.mark.parametrize("slug", sorted(WORKING_GROUPS))
def test_working_group(client: TestClient, slug: str) -> None:
    parent, status, leaders = WORKING_GROUPS[slug]
    group = client.get(f"/api/groups/{slug}").json()
    assert group["kind"] == "working"
    assert group["parent"] == parent
    assert group["status"] == status
    assert group["code"] == "WG" + slug.rsplit("wg", 1)[1]
    assert [(x["name"], x["affiliation"]) for x in group["leaders"]] == leaders


def test_smart_destination_platforms_is_held_once(client: TestClient) -> None:
    groups = _all(client, "/api/groups")
    assert [g["slug"] for g in groups if g["name"] == "Smart Destination Platforms"] == [
        "city-platforms-wg7"
    ]
    wg7 = client.get("/api/groups/city-platforms-wg7").json()
    assert wg7["secretariat"] == "ITU"
    assert wg7["scope"].startswith("The proposed Working Group on “Smart Destination Platforms”")


def test_publications_and_status_notes(client: TestClient) -> None:
    wg1 = client.get("/api/groups/city-platforms-wg1").json()
    assert wg1["publications"] == [
        "Digital solutions for integrated city management and use cases",
        "Compendium of survey results on integrated digital solutions for city platforms "
        "around the world",
    ]
    assert client.get("/api/groups/city-platforms-wg5").json()["status_note"] == (
        "To be published in July 2023"
    )


def test_one_leader_is_held_once_across_groups(engine: Any) -> None:
    from sqlmodel import Session, select

    from app.models import Leadership, Person

    with Session(engine) as session:
        people = session.exec(select(Person).where(Person.name == "Okan Geray")).all()
        assert len(people) == 1
        led = session.exec(select(Leadership).where(Leadership.person_id == people[0].id)).all()
        # AI in cities and its WG1 and WG2, People-Centred Cities and its WG1, Digital Wellbeing.
        assert len(led) == 6


@pytest.mark.parametrize("uid", sorted(MEETINGS))
def test_meeting_date_and_instant(client: TestClient, uid: str) -> None:
    day, start_utc, end_utc = MEETINGS[uid]
    meeting = client.get(f"/api/meetings/{uid}").json()
    assert meeting["date"] == day
    assert meeting["timezone"] == "Europe/Zurich"
    assert meeting["status"] == "confirmed"
    assert meeting["start_utc"] == start_utc
    assert meeting["end_utc"] == end_utc
    assert meeting["all_day"] is (start_utc is None)
    if start_utc is not None:
        # Summer in Geneva is UTC+2: the offset shown is the one in force.
        assert meeting["start"].endswith("+02:00")
        local = datetime.fromisoformat(meeting["start"])
        assert local.strftime("%H:%M") == meeting["start_time"]


def test_every_date_in_the_plan_is_a_meeting(client: TestClient) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    found = {
        datetime.strptime(f"{d} {m} {y}", "%d %B %Y").date().isoformat()
        for d, m, y in re.findall(rf"\b(\d{{1,2}}) ({months}) (\d{{4}})\b", text)
    }
    dates = {m["date"] for m in _all(client, "/api/meetings")}
    assert found == dates


def test_every_time_range_in_the_plan_is_a_meeting(client: TestClient) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    ranges = re.findall(r"(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})", text)
    timed = [
        (m["start_time"], m["end_time"]) for m in _all(client, "/api/meetings") if not m["all_day"]
    ]
    assert sorted(ranges) == sorted(timed)


def test_no_leader_invented(client: TestClient) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    for group in _all(client, "/api/groups"):
        for leader in group["leaders"]:
            assert leader["name"] in text
            if leader["affiliation"]:
                assert f"{leader['name']} ({leader['affiliation']})" in text or (
                    leader["affiliation"] in text
                )
