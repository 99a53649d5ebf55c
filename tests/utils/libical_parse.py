"""Parse iCalendar files with libical (Evolution's parser) and print what it sees, as JSON.

Run by tests/utils/strict_ics.py under Debian's /usr/bin/python3, whose python3-gi and
gir1.2-ical-3.0 give libical; the tests' own interpreter cannot load them. Standard library
and gi only. Usage: /usr/bin/python3 libical_parse.py FILE...  Prints one object per file:
{"errors": [...], "starts": {UID: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"}}.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any


def _start(event: Any) -> str:
    start = event.get_dtstart()
    if start.is_date():
        return f"{start.get_year():04d}-{start.get_month():02d}-{start.get_day():02d}"
    zone = start.get_timezone()
    if zone is None and not start.is_utc():
        return "floating"
    seconds = start.as_timet_with_zone(zone) if zone is not None else start.as_timet()
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(ical: Any, text: str) -> dict[str, Any]:
    errors: list[str] = []
    starts: dict[str, str] = {}
    calendar = ical.Parser.parse_string(text)
    if calendar is None:
        return {"errors": ["libical returns no component (unterminated VCALENDAR?)"], "starts": {}}
    if calendar.count_errors():
        errors.append(f"libical inserted {calendar.count_errors()} X-LIC-ERROR properties")
        kind = ical.ComponentKind.ANY_COMPONENT
        for component in [calendar, *_children(calendar, kind)]:
            prop = component.get_first_property(ical.PropertyKind.XLICERROR_PROPERTY)
            while prop is not None:
                name = ical.Component.kind_to_string(component.isa())
                errors.append(f"{name}: {prop.get_xlicerror()}")
                prop = component.get_next_property(ical.PropertyKind.XLICERROR_PROPERTY)
    for event in _children(calendar, ical.ComponentKind.VEVENT_COMPONENT):
        uid = event.get_uid()
        if uid in starts:
            errors.append(f"UID {uid} appears twice")
        starts[uid] = _start(event)
    return {"errors": errors, "starts": starts}


def _children(component: Any, kind: Any) -> list[Any]:
    found = []
    child = component.get_first_component(kind)
    while child is not None:
        found.append(child)
        child = component.get_next_component(kind)
    return found


def main(files: list[str]) -> None:
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib

    results = []
    for name in files:
        with open(name, encoding="utf-8", newline="") as handle:
            results.append(parse(ICalGLib, handle.read()))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
