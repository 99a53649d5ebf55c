"""The read model of groups (index, versions, public views) over the seeded action plan."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import crud
from app.models import GroupUpdate, Leader
from app.readmodel.groups import group_index, group_versions
from app.readmodel.links import calendar_label, feed_url, status_label, webcal
from app.readmodel.public import group_public, meeting_public

BASE = "https://calendar.example.org"


def test_the_index_links_each_working_group_to_its_thematic_group(engine: Engine) -> None:
    with Session(engine) as session:
        index = {info.slug: info for info in group_index(session).values()}
    thematic = index["ai-in-cities"]
    assert thematic.parent is None
    assert thematic.children == ("ai-in-cities-wg1", "ai-in-cities-wg2")
    wg2 = index["ai-in-cities-wg2"]
    assert wg2.parent is not None and wg2.parent.slug == "ai-in-cities"
    assert [(lead.name, lead.affiliation) for lead in wg2.leaders] == [
        ("Okan Geray", "Digital Dubai")
    ]
    assert wg2.label == "AI in cities WG2 Autonomous Cities"
    assert calendar_label(wg2) == "Autonomous Cities (WG2)"
    assert calendar_label(thematic) == "AI in cities"


def test_a_leader_change_raises_the_groups_version_and_the_index_shows_it(engine: Engine) -> None:
    with Session(engine) as session:
        before = dict(group_versions(session))
        group = crud.get_group(session, "ai-in-cities-wg2")
        gid = group.id
        crud.update_group(
            session,
            "ai-in-cities-wg2",
            GroupUpdate(leaders=[Leader(name="Jane Doe", affiliation="ITU")]),
            "test",
        )
    with Session(engine) as session:
        after = dict(group_versions(session))
        index = group_index(session)
    assert gid is not None and after[gid] == before[gid] + 1
    assert {k: v for k, v in after.items() if k != gid} == {
        k: v for k, v in before.items() if k != gid
    }
    assert [lead.name for lead in index[gid].leaders] == ["Jane Doe"]


def test_public_views_carry_absolute_links_and_webcal(engine: Engine) -> None:
    with Session(engine) as session:
        index = {info.slug: info for info in group_index(session).values()}
        meeting = crud.get_meeting(session, "ai-in-cities-wg2-2023-07-27")
        shown = meeting_public(meeting, index["ai-in-cities-wg2"], BASE)
    group = group_public(index["ai-in-cities"], BASE)
    assert group.feed_url == f"{BASE}/groups/ai-in-cities/calendar.ics"
    assert group.webcal_url == "webcal://calendar.example.org/groups/ai-in-cities/calendar.ics"
    assert group.working_groups == ["ai-in-cities-wg1", "ai-in-cities-wg2"]
    assert shown.url == f"{BASE}/groups/ai-in-cities-wg2#meeting-ai-in-cities-wg2-2023-07-27"
    assert (shown.start_time, shown.end_time, shown.all_day) == ("16:00", "17:00", False)
    assert shown.start is not None and shown.start.isoformat() == "2023-07-27T16:00:00+02:00"
    assert shown.start_utc is not None and shown.start_utc.hour == 14


def test_links_for_one_group_many_groups_and_all() -> None:
    assert feed_url(BASE, ("a",)) == f"{BASE}/groups/a/calendar.ics"
    assert feed_url(BASE, ("a", "b")) == f"{BASE}/calendar.ics?group=a&group=b"
    assert feed_url(BASE) == f"{BASE}/calendar.ics"
    assert webcal("http://x.org/c.ics") == "webcal://x.org/c.ics"
    assert status_label("to_be_kicked_off") == "To be kicked off"
