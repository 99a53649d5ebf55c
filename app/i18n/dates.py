"""Dates in words per language (Babel, CLDR data). English keeps the service's own form,
'4 December 2026', whatever the server's locale; times stay HH:MM in every language."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from app.i18n.languages import DEFAULT

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def long_date(day: dt.date, lang: str = DEFAULT) -> str:
    """'4 December 2026', '4 décembre 2026', '2026年12月4日', ..."""
    if lang == DEFAULT:
        # Not strftime("%B"): month names must not follow the server's locale.
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return format_date(day, "long", locale=lang)


def weekday_date(day: dt.date, lang: str = DEFAULT) -> str:
    """'Friday 4 December 2026' and its equivalents."""
    if lang == DEFAULT:
        return f"{_DAYS[day.weekday()]} {long_date(day)}"
    return format_date(day, "full", locale=lang)
