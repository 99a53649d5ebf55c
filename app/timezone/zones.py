"""Wall-clock times in any IANA zone <-> UTC instants, refusing times a zone skips or repeats."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from app.core.words import N_
from app.timezone import tzprovider

GENEVA = "Europe/Zurich"  # Geneva keeps Zurich's time; there is no Europe/Geneva zone.
UTC = tzprovider.UTC
# The refusals, as templates the pages translate (app.i18n.said).
UNKNOWN_ZONE = N_("unknown time zone %(zone)s; use an IANA name such as %(example)s")
SKIPPED = N_("%(day)s %(clock)s does not exist in %(zone)s: the clocks spring forward over it")
REPEATED = N_(
    "%(day)s %(clock)s happens twice in %(zone)s: the clocks fall back over it; choose another time"
)


class WallClockError(ValueError):
    """A local time that the zone skips (spring forward) or repeats (fall back)."""


def zone(name: str) -> tzprovider.TzInfo:
    """The IANA zone called `name`; ValueError with a clear message if there is none."""
    found = _ZONES.get(name)
    if found is not None:
        return found
    try:
        found = tzprovider.load(name)
    except tzprovider.UnknownZone as exc:
        raise ValueError(UNKNOWN_ZONE % {"zone": repr(name), "example": GENEVA}) from exc
    if len(_ZONES) < 1024:  # bounded: only real zone names get here
        _ZONES[name] = found
    return found


_ZONES: dict[str, tzprovider.TzInfo] = {}


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def canonical(name: str) -> str:
    """The zone's IANA spelling ("europe/zurich" is Europe/Zurich); ValueError if unknown."""
    return tzprovider.canonical_name(zone(name))


def format_offset(delta: timedelta, separator: str = "", seconds: bool = True) -> str:
    """A UTC offset as +HHMM (+HHMMSS when it has seconds), or +HH:MM with `separator=":"`;
    `seconds=False` drops the seconds, flooring to the minute."""
    total = int(delta.total_seconds())
    if not seconds:
        total = total // 60 * 60
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{separator}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _same_calendar_year(year: int) -> int:
    """A year no later than the tables' last transition whose weekdays and leap day match.

    The tables end in 2037 and fall back to the last offset after it; the Gregorian calendar
    repeats every 28 years (1901-2099), so rules such as "last Sunday of March" map exactly.
    This extends today's rules the way our VTIMEZONE's open-ended RRULEs do.
    """
    while year > tzprovider.LAST_TABLE_YEAR:
        year -= 28
    return year


def localize(day: date, clock: time, zone_name: str = GENEVA) -> datetime:
    """Wall-clock `day clock` in `zone_name`, aware; refuses skipped or repeated times."""
    tz = zone(zone_name)
    proxy_year = _same_calendar_year(day.year)
    naive = datetime.combine(day.replace(year=proxy_year), clock)
    try:
        aware = tzprovider.localize_strict(tz, naive)
    except tzprovider.SkippedTime:
        raise WallClockError(
            SKIPPED % {"day": day.isoformat(), "clock": f"{clock:%H:%M}", "zone": zone_name}
        ) from None
    except tzprovider.RepeatedTime:
        raise WallClockError(
            REPEATED % {"day": day.isoformat(), "clock": f"{clock:%H:%M}", "zone": zone_name}
        ) from None
    if proxy_year == day.year:
        return aware
    offset = aware.utcoffset()
    assert offset is not None
    return datetime.combine(day, clock, tzinfo=dt_timezone(offset, aware.tzname() or ""))


def to_utc(day: date, clock: time, zone_name: str = GENEVA) -> datetime:
    """The UTC instant of wall-clock `day clock` in `zone_name`; refuses skipped or repeated."""
    return localize(day, clock, zone_name).astimezone(UTC)


def local(instant: datetime, zone_name: str = GENEVA) -> datetime:
    """`instant` (aware) as wall-clock time in `zone_name`, with the offset in force."""
    shift = instant.year - _same_calendar_year(instant.year)
    if not shift:
        return instant.astimezone(zone(zone_name))
    proxy = instant.astimezone(UTC).replace(year=instant.year - shift).astimezone(zone(zone_name))
    offset = proxy.utcoffset()
    assert offset is not None
    return proxy.replace(year=proxy.year + shift, tzinfo=dt_timezone(offset, proxy.tzname() or ""))


def local_date(instant: datetime, zone_name: str = GENEVA) -> date:
    return local(instant, zone_name).date()
