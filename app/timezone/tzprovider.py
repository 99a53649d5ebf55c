"""The one seam onto the time-zone library (pytz today): zones by name, strict localizing, and
the raw transition table the VTIMEZONE is built from. Swapping in zoneinfo happens here only."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytz

UTC = pytz.utc
TzInfo = pytz.BaseTzInfo

# pytz knows transitions up to 2037; a rule still in force then is emitted without an end.
LAST_TABLE_YEAR = 2037


class SkippedTime(ValueError):
    """The clocks spring forward over this wall-clock time."""


class RepeatedTime(ValueError):
    """The clocks fall back over this wall-clock time."""


class UnknownZone(ValueError):
    """No IANA zone has this name."""


def load(name: str) -> TzInfo:
    try:
        return pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, ValueError, AttributeError, UnicodeError) as exc:
        raise UnknownZone(name) from exc


def canonical_name(tz: TzInfo) -> str:
    return str(tz.zone)


def localize_strict(tz: TzInfo, naive: datetime) -> datetime:
    """`naive` as an aware time in `tz`, refusing a skipped or repeated wall-clock time."""
    try:
        return tz.localize(naive, is_dst=None)
    except pytz.NonExistentTimeError:
        raise SkippedTime(str(naive)) from None
    except pytz.AmbiguousTimeError:
        raise RepeatedTime(str(naive)) from None


def transition_table(tz: TzInfo) -> list[tuple[datetime, timedelta, timedelta, str]]:
    """Every (naive UTC instant, offset after, DST part, abbreviation) the tables hold, oldest
    first; the first row is the offset in force before the first transition."""
    times: list[datetime] = getattr(tz, "_utc_transition_times", [])
    infos: list[tuple[timedelta, timedelta, str]] = getattr(tz, "_transition_info", [])
    return [(when, *info) for when, info in zip(times, infos, strict=False)]
