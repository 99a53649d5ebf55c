"""VTIMEZONE text for any IANA zone, generated from its tzdata transitions as yearly RRULEs."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from functools import lru_cache

from app.timezone import tzprovider, zones
from app.timezone.zones import format_offset

_LAST_YEAR = tzprovider.LAST_TABLE_YEAR


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


def _transitions(tz: tzprovider.TzInfo) -> list[_Transition]:
    table = tzprovider.transition_table(tz)
    found: list[_Transition] = []
    for i in range(1, len(table)):
        when, offset_to, dst, name = table[i]
        offset_from = table[i - 1][1]
        if offset_from == offset_to and table[i - 1][3] == name:
            continue
        # DAYLIGHT is where the clocks go forward, whatever tzdata calls it: negative DST
        # (Europe/Dublin's winter) and a standard time moved forward (America/Nuuk 2023) as
        # STANDARD make dateutil (vobject) misplace the switch by an hour.
        is_dst = offset_to > offset_from or (offset_to == offset_from and dst > timedelta(0))
        found.append(
            _Transition(
                utc=when.replace(tzinfo=None),
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
            run[-1].utc.year >= tzprovider.LAST_TABLE_YEAR
            and last_year >= tzprovider.LAST_TABLE_YEAR
        )
        observances.append(
            _Observance(
                run[0], run[-1], open_ended, yearly=len(run) > 1 or open_ended, count=len(run)
            )
        )
    return observances


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
        f"TZOFFSETFROM:{format_offset(first.offset_from)}",
        f"TZOFFSETTO:{format_offset(first.offset_to)}",
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
    tz = zones.zone(zone_name)
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
            f"TZOFFSETFROM:{format_offset(offset)}",
            f"TZOFFSETTO:{format_offset(offset)}",
            "END:STANDARD",
        ]
    else:
        lines = [
            line for o in sorted(kept, key=lambda o: o.first.utc) for line in _observance_lines(o)
        ]
    return ("BEGIN:VTIMEZONE", f"TZID:{zone_name}", *lines, "END:VTIMEZONE")
