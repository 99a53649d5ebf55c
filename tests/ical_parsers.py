"""Parse one iCalendar document with four independent parsers.

Test support for the U4SSC meeting calendar: every parser returns the same
normalised view (:class:`ParsedEvent`), so a test can assert that all of them
see the same events at the same UTC instants::

    results = parse_all(feed_bytes)
    assert len({tuple(events) for events in results.values()}) == 1

Normalisation (identical for all four parsers):

* ``start`` / ``end``: ``"YYYY-MM-DDTHH:MM:SSZ"`` (UTC) for DATE-TIME values,
  ``"YYYY-MM-DD"`` for DATE values. ``end`` comes from DTEND, else from
  DTSTART + DURATION (added on the wall clock, as ical.js does), else ``None``.
* TZID-ed times are converted with the VTIMEZONE *defined in the document*,
  never with the system tz database; a TZID without a matching VTIMEZONE raises
  :class:`UndefinedTzidError` (``parse_icaljs`` raises :class:`IcalJsError`).
  Floating times (no TZID, no ``Z``) raise :class:`FloatingTimeError`.
  :func:`parse_system_tzdata` is the deliberate exception: it resolves TZIDs
  with the IANA database (``zoneinfo``/``tzdata``), so comparing it with the
  others proves that the emitted VTIMEZONE agrees with tzdata.
* ``alarms``: the TRIGGER of every VALARM, as a canonical signed ISO 8601
  duration (``"-PT15M"``, ``"P1DT2H"``, ``"PT0S"``; weeks are written as days),
  or a UTC string for absolute (``VALUE=DATE-TIME``) triggers. ``RELATED=END``
  is not represented (the ``ical`` package does not expose it).
* ``status`` is ``None`` when absent, ``sequence`` is ``0`` when absent,
  ``summary`` is ``""`` when absent (text is unescaped).
* Events are sorted by ``(start, uid)``. Recurrence rules are not expanded:
  each VEVENT (including RECURRENCE-ID overrides) is reported once.

How each library resolves a TZID on its own (and what this module does):

* ``icalendar`` 7: a TZID that names a zone known to the provider (zoneinfo by
  default, so any IANA name such as ``Europe/Zurich``) is resolved with the
  *system* tz database; the document's VTIMEZONE is only used (and cached
  process-wide, first definition wins) for TZIDs the provider does not know.
  We therefore re-localise the wall-clock value with
  ``Timezone.to_tz(tzp, lookup_tzid=False)``, built by icalendar's own
  VTIMEZONE expansion (``Timezone.get_transitions`` + a pytz-style tzinfo from a
  private ``TZP("pytz")``; the global ``icalendar.tzp`` is not touched). That
  expansion stops at 2038 for open-ended RRULEs, so later times are refused.
  (The default zoneinfo provider would build the zone with
  ``dateutil.tz.tzical``, the same engine vobject uses; pytz keeps the two
  independent.)
* ``ical`` (strict): same preference: TZIDs found in the system/tzdata zones use
  ``zoneinfo``; only unknown TZIDs use the document's VTIMEZONE
  (``IcsTimezoneInfo``). We re-localise with
  ``IcsTimezoneInfo.from_timezone(<the document's VTIMEZONE>)``.
* ``vobject``: uses the document's VTIMEZONE (``dateutil.tz.tzical``), but via a
  process-global TZID registry where the *first* registration wins (a
  ``pytz`` zone too, if a TZID was ever looked up without a VTIMEZONE). We
  re-localise with ``VTIMEZONE.gettzinfo()`` of this document.
* ``ical.js`` (``tests/js/parse.mjs``): resolves TZIDs with the document's
  VTIMEZONE first (``Component#getTimeZoneByID``), then ``TimezoneService``,
  else silently floating; the script rejects undefined TZIDs itself.

Known disagreement (library behaviour, deliberately not papered over): wall-clock
times inside a DST transition. For Europe/Zurich, RFC 5545 (3.3.5) says that
02:30 on the autumn day means the first occurrence (00:30Z) and 02:30 on the
spring day (which does not exist) uses the offset before the gap (01:30Z).
Observed: autumn 02:30 -> ical, vobject, tzdata 00:30Z; icalendar (pytz) and
ical.js 01:30Z. Spring 02:30 -> icalendar, tzdata 01:30Z; ical, vobject,
ical.js 00:30Z. So the feed should not put events at such times.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo
from icalendar.timezone.tzp import TZP

__all__ = [
    "PARSERS",
    "FloatingTimeError",
    "IcalJsError",
    "ParsedEvent",
    "UndefinedTzidError",
    "parse_all",
    "parse_ical",
    "parse_icalendar",
    "parse_icaljs",
    "parse_system_tzdata",
    "parse_vobject",
]

JS_DIR = Path(__file__).resolve().parent / "js"
PARSE_MJS = JS_DIR / "parse.mjs"
NODE_TIMEOUT_SECONDS = 60

# icalendar's pytz provider caps open-ended VTIMEZONE RRULEs at 2038-12-31.
_ICALENDAR_LAST_SAFE_YEAR = 2037


class UndefinedTzidError(ValueError):
    """A TZID parameter names no VTIMEZONE defined in the document."""


class FloatingTimeError(ValueError):
    """A DATE-TIME has neither a TZID nor a ``Z`` suffix."""


class IcalJsError(RuntimeError):
    """``node tests/js/parse.mjs`` failed or could not be run."""


@dataclass(frozen=True)
class ParsedEvent:
    """One VEVENT as seen by one parser, normalised for comparison."""

    uid: str
    summary: str
    status: str | None
    sequence: int
    all_day: bool
    start: str
    end: str | None
    alarms: tuple[str, ...]


# --------------------------------------------------------------------------
# Shared normalisation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _RawTime:
    """A DATE or DATE-TIME as written: wall-clock value plus its TZID."""

    value: dt.date  # dt.datetime (naive wall clock, or aware UTC) or dt.date
    tzid: str | None


@dataclass(frozen=True)
class _RawEvent:
    uid: str
    summary: str
    status: str | None
    sequence: int
    start: _RawTime
    end: _RawTime | None
    duration: dt.timedelta | None
    triggers: tuple[dt.timedelta | _RawTime, ...]


_Localize = Callable[[dt.datetime, dt.tzinfo], dt.datetime]


def _replace_tz(wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return wall.replace(tzinfo=zone)


def _format_date(value: dt.date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _format_utc(value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise FloatingTimeError(f"cannot convert floating time {value} to UTC")
    utc = value.astimezone(dt.UTC)
    return f"{_format_date(utc)}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def _format_duration(delta: dt.timedelta) -> str:
    """Canonical ISO 8601 duration; keep in sync with parse.mjs."""
    total = delta.days * 86400 + delta.seconds
    if delta.microseconds:
        raise ValueError(f"sub-second duration {delta!r}")
    if total == 0:
        return "PT0S"
    sign = "-" if total < 0 else ""
    days, rest = divmod(abs(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds:
            out += f"{seconds}S"
    return out


def _to_aware(
    raw: _RawTime,
    zones: Mapping[str, dt.tzinfo],
    localize: _Localize,
    shift: dt.timedelta | None = None,
) -> dt.datetime:
    """Resolve a DATE-TIME to an aware datetime using the document's zones."""
    value = raw.value
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a DATE-TIME, got {value!r}")
    if raw.tzid is not None:
        zone = zones.get(raw.tzid)
        if zone is None:
            known = repr(zones) if isinstance(zones, _SystemZones) else sorted(zones)
            raise UndefinedTzidError(
                f"TZID {raw.tzid!r} is not defined by any VTIMEZONE in the document"
                f" (zones available: {known})"
            )
        wall = value.replace(tzinfo=None)
        if shift is not None:
            wall += shift
        return localize(wall, zone)
    if value.tzinfo is None or value.utcoffset() is None:
        raise FloatingTimeError(
            f"floating DATE-TIME {value.isoformat()} (no TZID, no Z) is not supported"
        )
    if value.utcoffset() != dt.timedelta(0):
        raise ValueError(f"DATE-TIME without TZID must be UTC, got {value!r}")
    return value + shift if shift is not None else value


def _format_time(
    raw: _RawTime,
    zones: Mapping[str, dt.tzinfo],
    localize: _Localize,
    shift: dt.timedelta | None = None,
) -> str:
    value = raw.value
    if isinstance(value, dt.datetime):
        return _format_utc(_to_aware(raw, zones, localize, shift))
    if raw.tzid is not None:
        raise ValueError(f"TZID {raw.tzid!r} on DATE value {value}")
    return _format_date(value + shift if shift is not None else value)


def _normalise(
    raw_events: Sequence[_RawEvent],
    zones: Mapping[str, dt.tzinfo],
    localize: _Localize = _replace_tz,
) -> list[ParsedEvent]:
    events = []
    for raw in raw_events:
        if raw.end is not None:
            end: str | None = _format_time(raw.end, zones, localize)
        elif raw.duration is not None:
            end = _format_time(raw.start, zones, localize, raw.duration)
        else:
            end = None
        alarms = tuple(
            _format_duration(trigger)
            if isinstance(trigger, dt.timedelta)
            else _format_time(trigger, zones, localize)
            for trigger in raw.triggers
        )
        events.append(
            ParsedEvent(
                uid=raw.uid,
                summary=raw.summary,
                status=raw.status,
                sequence=raw.sequence,
                all_day=not isinstance(raw.start.value, dt.datetime),
                start=_format_time(raw.start, zones, localize),
                end=end,
                alarms=alarms,
            )
        )
    return _sorted(events)


def _sorted(events: list[ParsedEvent]) -> list[ParsedEvent]:
    return sorted(events, key=lambda event: (event.start, event.uid))


def _decode(data: bytes) -> str:
    return data.decode("utf-8")


# --------------------------------------------------------------------------
# icalendar
# --------------------------------------------------------------------------

_ICALENDAR_PYTZ = TZP("pytz")


def _icalendar_time(prop: Any) -> _RawTime:
    value = prop.dt
    if isinstance(value, dt.date):  # datetime is a date subclass
        tzid = prop.params.get("TZID")
        return _RawTime(value, str(tzid) if tzid is not None else None)
    raise TypeError(f"expected DATE or DATE-TIME, got {value!r}")


def _icalendar_events(data: bytes) -> tuple[list[_RawEvent], icalendar.Calendar]:
    calendar = icalendar.Calendar.from_ical(data)
    raw_events = []
    for event in calendar.walk("VEVENT"):
        if "DTSTART" not in event:
            raise ValueError(f"VEVENT {event.get('UID')!r} has no DTSTART")
        triggers: list[dt.timedelta | _RawTime] = []
        for alarm in event.walk("VALARM"):
            trigger: Any = alarm["TRIGGER"]
            if isinstance(trigger.dt, dt.timedelta):
                triggers.append(trigger.dt)
            else:
                triggers.append(_icalendar_time(trigger))
        status = event.get("STATUS")
        duration = event.get("DURATION")
        raw_events.append(
            _RawEvent(
                uid=str(event["UID"]),
                summary=str(event.get("SUMMARY", "")),
                status=str(status) if status is not None else None,
                sequence=int(event.get("SEQUENCE", 0)),
                start=_icalendar_time(event["DTSTART"]),
                end=_icalendar_time(event["DTEND"]) if "DTEND" in event else None,
                duration=cast("dt.timedelta", duration.dt) if duration else None,
                triggers=tuple(triggers),
            )
        )
    return raw_events, calendar


def _pytz_localize(wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    if wall.year > _ICALENDAR_LAST_SAFE_YEAR:
        raise ValueError(
            f"{wall.isoformat()}: icalendar expands open-ended VTIMEZONE rules only"
            " up to 2038; extend _ICALENDAR_LAST_SAFE_YEAR handling before relying"
            " on it"
        )
    return cast("dt.datetime", _ICALENDAR_PYTZ.localize(wall, zone))


def parse_icalendar(data: bytes) -> list[ParsedEvent]:
    """Parse with ``icalendar``, resolving TZIDs with the document's VTIMEZONEs.

    icalendar itself would resolve a known IANA TZID with the system database
    and ignore the VTIMEZONE, see the module docstring.
    """
    raw_events, calendar = _icalendar_events(data)
    zones: dict[str, dt.tzinfo] = {}
    for vtimezone in calendar.walk("VTIMEZONE"):
        assert isinstance(vtimezone, icalendar.Timezone)
        tzid = vtimezone.tz_name
        if tzid in zones:
            raise ValueError(f"VTIMEZONE {tzid!r} is defined more than once")
        zones[tzid] = vtimezone.to_tz(_ICALENDAR_PYTZ, lookup_tzid=False)
    return _normalise(raw_events, zones, _pytz_localize)


class _SystemZones(Mapping[str, dt.tzinfo]):
    """TZID -> IANA zone from the system/tzdata database (lookup only)."""

    def __repr__(self) -> str:
        return "<IANA tz database>"

    def __getitem__(self, key: str) -> dt.tzinfo:
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise KeyError(key) from err

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def parse_system_tzdata(data: bytes) -> list[ParsedEvent]:
    """Parse with ``icalendar`` but resolve TZIDs with the IANA tz database.

    Ignores the document's VTIMEZONEs on purpose: if this agrees with the four
    document-based parsers, the emitted VTIMEZONE matches tzdata for every
    instant in the feed. A TZID that is not an IANA name raises
    :class:`UndefinedTzidError`.
    """
    raw_events, _ = _icalendar_events(data)
    return _normalise(raw_events, _SystemZones())


# --------------------------------------------------------------------------
# ical (strict)
# --------------------------------------------------------------------------


def _ical_time(value: dt.date) -> _RawTime:
    if not isinstance(value, dt.datetime):
        return _RawTime(value, None)
    tzinfo = value.tzinfo
    if tzinfo is None or tzinfo is dt.UTC:
        # floating, or a "Z" value (ical uses datetime.timezone.utc for those)
        return _RawTime(value, None)
    # ical drops the TZID parameter after parsing; recover it from the zone
    # (zoneinfo.ZoneInfo.key, IcsTimezoneInfo/TzInfo str() == TZID).
    tzid = getattr(tzinfo, "key", None) or str(tzinfo)
    return _RawTime(value.replace(tzinfo=None), tzid)


def parse_ical(data: bytes) -> list[ParsedEvent]:
    """Parse with the strict ``ical`` package (errors propagate unchanged).

    ical itself would resolve a known IANA TZID with the system database and
    ignore the VTIMEZONE, see the module docstring.
    """
    calendar = IcsCalendarStream.calendar_from_ics(_decode(data))
    zones: dict[str, dt.tzinfo] = {}
    for timezone in calendar.timezones:
        if timezone.tz_id in zones:
            raise ValueError(f"VTIMEZONE {timezone.tz_id!r} is defined more than once")
        zones[timezone.tz_id] = IcsTimezoneInfo.from_timezone(timezone)
    raw_events = []
    for event in calendar.events:
        triggers: list[dt.timedelta | _RawTime] = []
        for alarm in event.alarm:
            trigger = alarm.trigger
            if isinstance(trigger, dt.timedelta):
                triggers.append(trigger)
            else:
                triggers.append(_ical_time(trigger))
        if event.dtstart is None:
            raise ValueError(f"VEVENT {event.uid!r} has no DTSTART")
        raw_events.append(
            _RawEvent(
                uid=event.uid,
                summary=event.summary or "",
                status=str(event.status.value) if event.status is not None else None,
                sequence=event.sequence or 0,
                start=_ical_time(event.dtstart),
                end=_ical_time(event.dtend) if event.dtend is not None else None,
                duration=event.duration,
                triggers=tuple(triggers),
            )
        )
    return _normalise(raw_events, zones)


# --------------------------------------------------------------------------
# vobject
# --------------------------------------------------------------------------


def _vobject_children(component: Any, name: str) -> list[Any]:
    return cast("list[Any]", component.contents.get(name, []))


def _vobject_first(component: Any, name: str) -> Any:
    children = _vobject_children(component, name)
    return children[0] if children else None


def _vobject_time(line: Any) -> _RawTime:
    value = line.value
    if not isinstance(value, dt.date):
        raise TypeError(f"expected DATE or DATE-TIME, got {value!r}")
    # vobject moves TZID to X-VOBJ-ORIGINAL-TZID when it converts to native.
    params = cast("dict[str, list[str]]", line.params)
    tzids = params.get("X-VOBJ-ORIGINAL-TZID") or params.get("TZID")
    tzid = str(tzids[0]) if tzids else None
    if isinstance(value, dt.datetime) and tzid is not None:
        value = value.replace(tzinfo=None)
    return _RawTime(value, tzid)


def parse_vobject(data: bytes) -> list[ParsedEvent]:
    """Parse with ``vobject``, resolving TZIDs with this document's VTIMEZONEs."""
    calendar = vobject.readOne(_decode(data))
    zones: dict[str, dt.tzinfo] = {}
    for vtimezone in _vobject_children(calendar, "vtimezone"):
        tzid = str(vtimezone.tzid.value)
        if tzid in zones:
            raise ValueError(f"VTIMEZONE {tzid!r} is defined more than once")
        zones[tzid] = cast("dt.tzinfo", vtimezone.gettzinfo())
    raw_events = []
    for event in _vobject_children(calendar, "vevent"):
        uid = _vobject_first(event, "uid")
        if uid is None:
            raise ValueError("VEVENT without UID")
        dtstart = _vobject_first(event, "dtstart")
        if dtstart is None:
            raise ValueError(f"VEVENT {uid.value!r} has no DTSTART")
        triggers: list[dt.timedelta | _RawTime] = []
        for alarm in _vobject_children(event, "valarm"):
            trigger = alarm.trigger
            if isinstance(trigger.value, dt.timedelta):
                triggers.append(trigger.value)
            else:
                triggers.append(_vobject_time(trigger))
        summary = _vobject_first(event, "summary")
        status = _vobject_first(event, "status")
        sequence = _vobject_first(event, "sequence")
        dtend = _vobject_first(event, "dtend")
        duration = _vobject_first(event, "duration")
        raw_events.append(
            _RawEvent(
                uid=str(uid.value),
                summary=str(summary.value) if summary is not None else "",
                status=str(status.value) if status is not None else None,
                sequence=int(sequence.value) if sequence is not None else 0,
                start=_vobject_time(dtstart),
                end=_vobject_time(dtend) if dtend is not None else None,
                duration=(cast("dt.timedelta", duration.value) if duration is not None else None),
                triggers=tuple(triggers),
            )
        )
    return _normalise(raw_events, zones)


# --------------------------------------------------------------------------
# ical.js (node)
# --------------------------------------------------------------------------


def parse_icaljs(data: bytes) -> list[ParsedEvent]:
    """Parse with ical.js by running ``node tests/js/parse.mjs`` (stdin -> JSON)."""
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        raise IcalJsError(f"ical.js is not installed: run `npm ci` in {JS_DIR}")
    node = shutil.which("node")
    if node is None:
        raise IcalJsError("node is not on PATH (needed for tests/js/parse.mjs)")
    result = subprocess.run(  # fixed argv, no shell
        [node, str(PARSE_MJS), "-"],
        input=data,
        capture_output=True,
        check=False,
        timeout=NODE_TIMEOUT_SECONDS,
        cwd=JS_DIR,
    )
    if result.returncode != 0:
        raise IcalJsError(
            f"parse.mjs exited with {result.returncode}: "
            f"{result.stderr.decode('utf-8', 'replace').strip()}"
        )
    items = json.loads(result.stdout)
    if not isinstance(items, list):
        raise IcalJsError(f"parse.mjs printed {type(items).__name__}, not a list")
    events = [
        ParsedEvent(
            uid=str(item["uid"]),
            summary=str(item["summary"]),
            status=None if item["status"] is None else str(item["status"]),
            sequence=int(item["sequence"]),
            all_day=bool(item["all_day"]),
            start=str(item["start"]),
            end=None if item["end"] is None else str(item["end"]),
            alarms=tuple(str(alarm) for alarm in item["alarms"]),
        )
        for item in cast("list[dict[str, Any]]", items)
    ]
    return _sorted(events)


# --------------------------------------------------------------------------
# All together
# --------------------------------------------------------------------------

PARSERS: dict[str, Callable[[bytes], list[ParsedEvent]]] = {
    "icalendar": parse_icalendar,
    "ical": parse_ical,
    "vobject": parse_vobject,
    "icaljs": parse_icaljs,
}


def parse_all(data: bytes) -> dict[str, list[ParsedEvent]]:
    """Parse ``data`` with every parser in :data:`PARSERS` (errors propagate)."""
    return {name: parse(data) for name, parse in PARSERS.items()}
