"""The emitted VTIMEZONE against tzdata: the UTC offset at every hour from 2020 to 2035."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from importlib import resources
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil import tz as dateutil_tz
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo
from icalendar.timezone.tzp import TZP

from app.timezone import vtimezone, zones

HOUR = dt.timedelta(hours=1)
FIRST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2036, 1, 1, tzinfo=dt.UTC)
# Zones a meeting may well use: Geneva's, and one per other continent, north and south.
ZONES = ["Europe/Zurich", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
# icalendar builds a pytz zone from the VTIMEZONE; a private provider leaves the global alone.
_PYTZ = TZP("pytz")


def tzdata_zone(name: str) -> ZoneInfo:
    """`name` from the tzdata package, the release pytz also bundles.

    ZoneInfo(name) would prefer the operating system's files, which may be an older release
    (Morocco and Cuba changed their rules in 2026): the comparison would then test the
    machine's updates, not the VTIMEZONE.
    """
    with resources.files("tzdata.zoneinfo").joinpath(name).open("rb") as handle:
        return ZoneInfo.from_file(handle, key=name)


def vtimezone_document(name: str, from_year: int) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    lines += vtimezone.vtimezone_lines(name, from_year)
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def icalendar_zone(document: str) -> dt.tzinfo:
    vtimezone = icalendar.Calendar.from_ical(document).walk("VTIMEZONE")[0]
    assert isinstance(vtimezone, icalendar.Timezone)
    zone: dt.tzinfo = vtimezone.to_tz(_PYTZ, lookup_tzid=False)
    return zone


def dateutil_zone(document: str, name: str) -> dt.tzinfo:
    """The engine vobject (and so Radicale) reads a VTIMEZONE with."""
    zone: dt.tzinfo | None = dateutil_tz.tzical(io.StringIO(document)).get(name)
    assert zone is not None
    return zone


def ical_zone(document: str) -> dt.tzinfo:
    calendar = IcsCalendarStream.calendar_from_ics(document)
    return IcsTimezoneInfo.from_timezone(calendar.timezones[0])


def hours() -> Iterator[dt.datetime]:
    instant = FIRST
    while instant < END:
        yield instant
        instant += HOUR


def near_transitions(zone: dt.tzinfo) -> list[dt.datetime]:
    """Every hour within three hours of a change of offset, and the 1st of every month."""
    found: set[dt.datetime] = set()
    before = FIRST.astimezone(zone).utcoffset()
    for instant in hours():
        offset = instant.astimezone(zone).utcoffset()
        if offset != before:
            found.update(instant + k * HOUR for k in range(-3, 4))
        before = offset
        if instant.day == 1 and instant.hour == 12:
            found.add(instant)
    return sorted(found)


def offsets_differing(
    zone: dt.tzinfo, reference: dt.tzinfo, instants: Iterator[dt.datetime] | list[dt.datetime]
) -> list[tuple[str, object, object]]:
    return [
        (instant.isoformat(), instant.astimezone(zone).utcoffset(), expected)
        for instant in instants
        if instant.astimezone(zone).utcoffset()
        != (expected := instant.astimezone(reference).utcoffset())
    ]


@pytest.mark.parametrize("name", ZONES)
def test_vtimezone_matches_tzdata_every_hour_2020_to_2035(name: str) -> None:
    reference = tzdata_zone(name)
    zone = icalendar_zone(vtimezone_document(name, 2020))
    assert offsets_differing(zone, reference, hours()) == []


@pytest.mark.parametrize("name", ZONES)
def test_vtimezone_names_match_tzdata_every_hour(name: str) -> None:
    reference = tzdata_zone(name)
    zone = icalendar_zone(vtimezone_document(name, 2020))
    wrong = [
        (instant.isoformat(), instant.astimezone(zone).tzname())
        for instant in hours()
        if instant.astimezone(zone).tzname() != instant.astimezone(reference).tzname()
    ]
    assert wrong == []


@pytest.mark.parametrize("name", ZONES)
@pytest.mark.parametrize("engine", ["dateutil", "ical"])
def test_other_parsers_read_the_vtimezone_like_tzdata(name: str, engine: str) -> None:
    # These engines are slower; the hours around each change are where they could differ.
    reference = tzdata_zone(name)
    document = vtimezone_document(name, 2020)
    zone = dateutil_zone(document, name) if engine == "dateutil" else ical_zone(document)
    assert offsets_differing(zone, reference, near_transitions(reference)) == []


def test_geneva_vtimezone_is_two_open_ended_rules() -> None:
    """Europe/Zurich as every client expects it: the EU rule since 1996, no RDATE lists."""
    lines = vtimezone.vtimezone_lines(zones.GENEVA, 2023)
    assert lines == (
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Zurich",
        "BEGIN:DAYLIGHT",
        "DTSTART:19810329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "TZNAME:CEST",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:19961027T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "TZNAME:CET",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "END:STANDARD",
        "END:VTIMEZONE",
    )


@pytest.mark.parametrize("from_year", [2020, 2023, 2024, 2030])
def test_vtimezone_from_any_year_is_right_from_that_year(from_year: int) -> None:
    reference = tzdata_zone(zones.GENEVA)
    zone = icalendar_zone(vtimezone_document(zones.GENEVA, from_year))
    start = dt.datetime(from_year, 1, 1, tzinfo=dt.UTC)
    instants = [i for i in near_transitions(reference) if i >= start]
    assert offsets_differing(zone, reference, instants) == []


def test_negative_dst_dublin_reads_right_in_dateutil() -> None:
    """tzdata calls Irish winter time the saving (negative DST); written that way, as a
    DAYLIGHT observance going back, dateutil switched an hour off on both days."""
    name = "Europe/Dublin"
    reference = tzdata_zone(name)
    document = vtimezone_document(name, 2020)
    assert "TZNAME:IST\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT" in document
    for zone in (dateutil_zone(document, name), icalendar_zone(document), ical_zone(document)):
        assert offsets_differing(zone, reference, near_transitions(reference)) == []


def test_rule_ending_east_of_greenwich_keeps_its_last_onset_in_dateutil() -> None:
    """Samoa dropped DST in 2021: the UNTIL of its last rule, written as the UTC instant of the
    last change, came before that change's wall-clock onset, and dateutil dropped it."""
    name = "Pacific/Apia"
    reference = tzdata_zone(name)
    document = vtimezone_document(name, 2020)
    for zone in (dateutil_zone(document, name), icalendar_zone(document), ical_zone(document)):
        assert offsets_differing(zone, reference, near_transitions(reference)) == []


@pytest.mark.parametrize(
    ("day", "clock", "utc"),
    [
        (dt.date(2024, 7, 11), dt.time(16, 0), dt.datetime(2024, 7, 11, 14, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 12, 12), dt.time(10, 0), dt.datetime(2024, 12, 12, 9, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 3, 31), dt.time(10, 0), dt.datetime(2024, 3, 31, 8, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 10, 27), dt.time(10, 0), dt.datetime(2024, 10, 27, 9, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 3, 31), dt.time(1, 59), dt.datetime(2024, 3, 31, 0, 59, tzinfo=dt.UTC)),
        (dt.date(2024, 3, 31), dt.time(3, 0), dt.datetime(2024, 3, 31, 1, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 10, 27), dt.time(1, 59), dt.datetime(2024, 10, 26, 23, 59, tzinfo=dt.UTC)),
        (dt.date(2024, 10, 27), dt.time(3, 0), dt.datetime(2024, 10, 27, 2, 0, tzinfo=dt.UTC)),
        # Past pytz's last table year (2037) the rules carry on.
        (dt.date(2050, 7, 1), dt.time(12, 0), dt.datetime(2050, 7, 1, 10, 0, tzinfo=dt.UTC)),
        (dt.date(2050, 1, 10), dt.time(12, 0), dt.datetime(2050, 1, 10, 11, 0, tzinfo=dt.UTC)),
    ],
)
def test_geneva_wall_clock_to_utc(day: dt.date, clock: dt.time, utc: dt.datetime) -> None:
    assert zones.to_utc(day, clock) == utc
    assert zones.local(utc).replace(tzinfo=None) == dt.datetime.combine(day, clock)


@pytest.mark.parametrize(
    ("day", "clock", "words"),
    [
        (dt.date(2024, 3, 31), dt.time(2, 30), "does not exist"),
        (dt.date(2024, 10, 27), dt.time(2, 30), "happens twice"),
    ],
)
def test_wall_clock_in_a_transition_is_refused(day: dt.date, clock: dt.time, words: str) -> None:
    with pytest.raises(zones.WallClockError, match=words):
        zones.to_utc(day, clock)


@pytest.mark.parametrize("name", ["Pacific/Palau", "Pacific/Kiritimati", "Asia/Tokyo"])
def test_zone_settled_long_ago_reads_right_in_every_engine(name: str) -> None:
    """A zone whose last change came before from_year: Palau's was from local mean time across
    the date line (a day's jump that dateutil and `ical` refused), and `ical` ignored an
    observance that had a DTSTART and no RRULE (Tokyo read as UTC)."""
    reference = tzdata_zone(name)
    document = vtimezone_document(name, 2020)
    for zone in (dateutil_zone(document, name), icalendar_zone(document), ical_zone(document)):
        assert offsets_differing(zone, reference, near_transitions(reference)) == []
