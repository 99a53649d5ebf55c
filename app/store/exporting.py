"""Everything in the store written back in the seed file's shape (`u4ssc-calendar export`): an
import of it renders the same feeds, byte for byte."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from sqlmodel import Session, select

from app import crud
from app.models import GROUP_DESCRIPTIVE_FIELDS, Meeting, clock_text
from app.readmodel.groups import GroupInfo, group_index
from app.store.seeding import SeedMeeting
from app.timezone import zones


def export(session: Session) -> dict[str, Any]:
    """Everything in the store, in the seed file's shape."""
    index = group_index(session)
    meetings: dict[int, list[Meeting]] = {}
    for meeting in session.exec(select(Meeting).order_by(*crud.MEETING_ORDER)).all():
        meetings.setdefault(meeting.group_id, []).append(meeting)

    def group_entry(info: GroupInfo) -> dict[str, Any]:
        g = info.group
        entry: dict[str, Any] = {"slug": g.slug}
        if g.code:
            entry["code"] = g.code
        for name in GROUP_DESCRIPTIVE_FIELDS:
            if name == "leaders":
                entry[name] = [leader.model_dump() for leader in info.leaders]
            elif name in ("notes", "publications"):
                entry[name] = list(getattr(g, name))
            elif name == "translations":
                if g.translations:  # left out when there are none, as the file may
                    entry[name] = g.translations
            else:
                value = getattr(g, name)
                entry[name] = str(value) if name == "status" else value
        entry |= {
            "meetings": [_meeting_entry(m) for m in meetings.get(g.id or 0, [])],
        }
        return entry

    thematic = []
    for info in index.values():
        if info.parent is None:
            entry = group_entry(info)
            entry["working_groups"] = [
                group_entry(child)
                for child in index.values()
                if child.parent is not None and child.parent.id == info.group.id
            ]
            thematic.append(entry)
    return {"source": "U4SSC meeting calendar export", "thematic_groups": thematic}


def _meeting_entry(meeting: Meeting) -> dict[str, Any]:
    """A meeting as SeedMeeting reads it, in its order; what the file may leave out (nulls, the
    times of an all-day meeting, Geneva's zone) is left out."""
    timed = meeting.start_time is not None and meeting.end_time is not None
    entry: dict[str, Any] = {}
    for name in SeedMeeting.model_fields:
        value = getattr(meeting, name)
        if value in (None, {}) or (name == "timezone" and value == zones.GENEVA):
            continue
        if name in ("start_time", "end_time"):
            if not timed:
                continue
            value = clock_text(value)
        elif isinstance(value, dt.datetime):
            value = value.isoformat()
        elif name == "status":
            value = str(value)
        entry[name] = value
    return entry


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
