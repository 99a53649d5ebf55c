"""The strictest feed checks, the project's own (what ../shared/tools/ics-check adds to the four
parsers of tests/ical_parsers.py): libical, Evolution's parser, through Debian's python3-gi, and
the `ics` package; each must read every event at the UTC start icalendar reads."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ics

from tests.ical_parsers import parse_icalendar

# Debian's python3-gi and gir1.2-ical-3.0 belong to Debian's interpreter, not to the venv's:
# libical runs there, in a subprocess. scripts/test.sh installs both when they are missing.
SYSTEM_PYTHON = Path("/usr/bin/python3")
LIBICAL_PARSE = Path(__file__).with_name("libical_parse.py")
INSTALL_HINT = "apt-get install python3-gi gir1.2-ical-3.0 (scripts/test.sh does)"

Starts = dict[str, str]  # UID -> "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"


def icalendar_starts(feed: bytes) -> Starts:
    return {event.uid: event.start for event in parse_icalendar(feed)}


def libical_starts(feeds: Sequence[bytes]) -> list[Starts]:
    """What libical reads in each feed; AssertionError naming libical's complaints."""
    if not SYSTEM_PYTHON.is_file():
        raise AssertionError(f"libical needs Debian's {SYSTEM_PYTHON}: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for n, feed in enumerate(feeds):
            file = Path(folder) / f"feed-{n:03d}.ics"
            file.write_bytes(feed)
            files.append(str(file))
        result = subprocess.run(
            [str(SYSTEM_PYTHON), str(LIBICAL_PARSE), *files],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    if result.returncode != 0:
        hint = INSTALL_HINT if "ICalGLib" in result.stderr or "gi" in result.stderr else ""
        raise AssertionError(f"libical could not run: {result.stderr[-2000:]}\n{hint}")
    reports: list[dict[str, object]] = json.loads(result.stdout)
    for n, report in enumerate(reports):
        assert report["errors"] == [], (f"feed {n}", report["errors"])
    return [dict(report["starts"]) for report in reports]  # type: ignore[call-overload]


def ics_starts(feed: bytes) -> Starts:
    """What the `ics` package reads: all-day events as their date, the others in UTC."""
    calendar = ics.Calendar(feed.decode("utf-8"))
    starts: Starts = {}
    for event in calendar.events:
        assert event.uid not in starts, f"UID {event.uid} twice"
        begin = event.begin
        starts[event.uid] = (
            begin.format("YYYY-MM-DD")
            if event.all_day
            else begin.to("utc").format("YYYY-MM-DDTHH:mm:ss") + "Z"
        )
    return starts


def assert_strictly_valid(feeds: Sequence[bytes]) -> None:
    """libical reports no error, and libical and `ics` see every event icalendar sees, at the
    same start."""
    for n, (feed, seen) in enumerate(zip(feeds, libical_starts(feeds), strict=True)):
        expected = icalendar_starts(feed)
        assert seen == expected, (f"feed {n}: libical", seen, expected)
        assert ics_starts(feed) == expected, (f"feed {n}: ics", ics_starts(feed), expected)
