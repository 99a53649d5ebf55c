"""Wall-clock times in a zone <-> UTC instants, and VTIMEZONE text generated from tzdata."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache

import pytz

GENEVA = "Europe/Zurich"  # Geneva keeps Zurich's time; there is no Europe/Geneva zone.
UTC = pytz.utc

# pytz knows transitions up to 2037; a rule still in force then is emitted without an end.
_LAST_TRANSITION_YEAR = 2037


class WallClockError(ValueError):
    """A local time that the zone skips (spring forward) or repeats (fall back)."""


def zone(name: str) -> pytz.BaseTzInfo:
    """The IANA zone called `name`; ValueError with a clear message if there is none."""
    found = _ZONES.get(name)
    if found is not None:
        return found
    try:
        found = pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, ValueError, AttributeError, UnicodeError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as {GENEVA}") from exc
    if len(_ZONES) < 1024:  # bounded: only real zone names get here
        _ZONES[name] = found
    return found


_ZONES: dict[str, pytz.BaseTzInfo] = {}


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _same_calendar_year(year: int) -> int:
    """A year no later than pytz's last transition whose weekdays and leap day match `year`.

    pytz's tables end in 2037 and fall back to the last offset after it; the Gregorian calendar
    repeats every 28 years (1901-2099), so rules such as "last Sunday of March" map exactly.
    This extends today's rules the way our VTIMEZONE's open-ended RRULEs do.
    """
    while year > _LAST_TRANSITION_YEAR:
        year -= 28
    return year


def localize(day: date, clock: time, zone_name: str = GENEVA) -> datetime:
    """Wall-clock `day clock` in `zone_name`, aware; refuses skipped or repeated times."""
    tz = zone(zone_name)
    proxy_year = _same_calendar_year(day.year)
    naive = datetime.combine(day.replace(year=proxy_year), clock)
    try:
        aware = tz.localize(naive, is_dst=None)
    except pytz.NonExistentTimeError:
        raise WallClockError(
            f"{day.isoformat()} {clock:%H:%M} does not exist in {zone_name}: "
            "the clocks spring forward over it"
        ) from None
    except pytz.AmbiguousTimeError:
        raise WallClockError(
            f"{day.isoformat()} {clock:%H:%M} happens twice in {zone_name}: "
            "the clocks fall back over it; choose another time"
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


# --- VTIMEZONE ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    utc: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_dst: bool

    @property
    def local_onset(self) -> datetime:
        """The wall-clock time at which the change happens, read on the clock before it."""
        return self.utc + self.offset_from

    @property
    def rule(self) -> tuple[int, int, int, time]:
        """(month, weekday, week: 1..4 or -1 for last, local time) of a yearly rule."""
        onset = self.local_onset
        days_in_month = calendar.monthrange(onset.year, onset.month)[1]
        week = -1 if onset.day + 7 > days_in_month else (onset.day - 1) // 7 + 1
        return onset.month, onset.weekday(), week, onset.time()

    @property
    def kind(self) -> tuple[timedelta, timedelta, str, bool]:
        return self.offset_from, self.offset_to, self.name, self.is_dst


@dataclass(frozen=True)
class _Observance:
    first: _Transition
    last: _Transition
    open_ended: bool
    yearly: bool
    count: int = 1


def _transitions(tz: pytz.BaseTzInfo) -> list[_Transition]:
    times: list[datetime] = getattr(tz, "_utc_transition_times", [])
    infos: list[tuple[timedelta, timedelta, str]] = getattr(tz, "_transition_info", [])
    found: list[_Transition] = []
    for i in range(1, len(times)):
        offset_to, dst, name = infos[i]
        offset_from = infos[i - 1][0]
        if offset_from == offset_to and infos[i - 1][2] == name:
            continue
        # DAYLIGHT is where the clocks go forward, whatever tzdata calls it: negative DST
        # (Europe/Dublin's winter) and a standard time moved forward (America/Nuuk 2023) as
        # STANDARD make dateutil (vobject) misplace the switch by an hour.
        is_dst = offset_to > offset_from or (offset_to == offset_from and dst > timedelta(0))
        found.append(
            _Transition(
                utc=times[i].replace(tzinfo=None),
                offset_from=offset_from,
                offset_to=offset_to,
                name=name,
                is_dst=is_dst,
            )
        )
    return found


def _observances(transitions: list[_Transition]) -> list[_Observance]:
    """Group transitions into yearly runs that one RRULE describes; the rest stand alone."""
    runs: list[list[_Transition]] = []
    open_runs: dict[tuple[object, ...], list[_Transition]] = {}
    for t in transitions:
        key = (*t.kind, *t.rule)
        run = open_runs.get(key)
        if run is not None and run[-1].utc.year == t.utc.year - 1:
            run.append(t)
            continue
        run = [t]
        runs.append(run)
        open_runs[key] = run
    last_year = transitions[-1].utc.year if transitions else 0
    observances = []
    for run in runs:
        open_ended = (
            run[-1].utc.year >= _LAST_TRANSITION_YEAR and last_year >= _LAST_TRANSITION_YEAR
        )
        observances.append(
            _Observance(
                run[0], run[-1], open_ended, yearly=len(run) > 1 or open_ended, count=len(run)
            )
        )
    return observances


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _observance_lines(obs: _Observance) -> list[str]:
    first = obs.first
    lines = [
        "BEGIN:" + ("DAYLIGHT" if first.is_dst else "STANDARD"),
        f"DTSTART:{first.local_onset:%Y%m%dT%H%M%S}",
    ]
    # Every observance has an RRULE, bounded by COUNT: the strict `ical` package ignores an
    # observance that has only a DTSTART, it cannot read a UTC UNTIL against the floating
    # DTSTART, and dateutil (vobject) compares UNTIL with naive local onsets.
    if obs.yearly:
        month, weekday, week, _ = first.rule
        rrule = f"RRULE:FREQ=YEARLY;BYMONTH={month};BYDAY={week}{_DAYS[weekday]}"
        if not obs.open_ended:
            rrule += f";COUNT={obs.count}"
    else:
        rrule = "RRULE:FREQ=YEARLY;COUNT=1"
    lines.append(rrule)
    lines += [
        f"TZNAME:{first.name}",
        f"TZOFFSETFROM:{_offset(first.offset_from)}",
        f"TZOFFSETTO:{_offset(first.offset_to)}",
        "END:" + ("DAYLIGHT" if first.is_dst else "STANDARD"),
    ]
    return lines


@lru_cache(maxsize=64)
def vtimezone_lines(zone_name: str, from_year: int) -> tuple[str, ...]:
    """Content lines of a VTIMEZONE for `zone_name` that is right from `from_year` on.

    Yearly rules become RRULE observances (one DTSTART, no RDATE lists: ical.js and vobject
    misread multi-valued RDATEs). Observances that ended before `from_year` are left out,
    except the one in force at its start, so the text stays short and stable.
    """
    tz = zone(zone_name)
    transitions = _transitions(tz)
    observances = _observances(transitions)
    start = datetime(from_year, 1, 1)
    # Open-ended rules go on past pytz's last table year (2037): a later from_year keeps them.
    kept = [o for o in observances if o.open_ended or o.last.utc >= start]
    earlier = [t for t in transitions if t.utc < start]
    if earlier:
        # The change in force on 1 January of from_year must be there for times after it.
        last = earlier[-1]
        if not any(
            o.first.utc <= last.utc <= o.last.utc and o.first.kind == last.kind for o in kept
        ):
            if abs(last.offset_to - last.offset_from) >= timedelta(hours=12):
                # Only the offset it sets matters here, and a jump across the date line
                # (Pacific/Palau 1901: -15:02 to +09:00) is a day that dateutil (vobject) and
                # `ical` refuse as a DST shift.
                last = replace(last, offset_from=last.offset_to)
            kept.append(_Observance(last, last, open_ended=False, yearly=False))
    if not kept:
        offset = tz.utcoffset(datetime(from_year, 1, 1))
        name = tz.tzname(datetime(from_year, 1, 1))
        assert offset is not None and name is not None
        lines = [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            "RRULE:FREQ=YEARLY;COUNT=1",
            f"TZNAME:{name}",
            f"TZOFFSETFROM:{_offset(offset)}",
            f"TZOFFSETTO:{_offset(offset)}",
            "END:STANDARD",
        ]
    else:
        lines = [
            line for o in sorted(kept, key=lambda o: o.first.utc) for line in _observance_lines(o)
        ]
    return ("BEGIN:VTIMEZONE", f"TZID:{zone_name}", *lines, "END:VTIMEZONE")
