"""Pydantic's validation errors in the words every surface shows: the API's 422, the console's
form errors, the command line and the crud layer's Invalid."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Any

from app.core.words import N_

# "February 2027 has 28 days": each month's English name is a marked word of its own.
_MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
NOT_IN_MONTH = N_("%(date)s is not a date: %(month)s %(year)s has %(days)s days")


def _not_a_day(text: str) -> str | None:
    """ "2027-02-30 is not a date: February 2027 has 28 days", for a real month's wrong day."""
    found = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if not found:
        return None
    year, month, day = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        return N_("%(date)s is not a date: there is no month %(month)s") % {
            "date": text,
            "month": month,
        }
    days = calendar.monthrange(year, month)[1]
    if day < 1 or day > days:
        month_name = _MONTHS[month - 1]
        return NOT_IN_MONTH % {"date": text, "month": month_name, "year": year, "days": days}
    return None


def _plain(kind: str, raw: str, error: Mapping[str, Any]) -> str | None:
    """Pydantic's wording for the common mistakes, as a person would say it."""
    given = error.get("input")
    context = error.get("ctx") or {}
    if kind == "missing":
        return N_("is required")
    if kind.startswith("date") and isinstance(given, str):
        return _not_a_day(given) or (
            N_("“%(given)s” is not a date: write it as YYYY-MM-DD") % {"given": given}
        )
    if kind.startswith("time") and isinstance(given, str):
        return N_("“%(given)s” is not a time: write it as HH:MM on a 24-hour clock, like 16:00") % {
            "given": given
        }
    if kind == "string_too_long":
        most = context.get("max_length")
        if isinstance(given, str):
            return N_("is too long: at most %(most)s characters (this has %(has)s)") % {
                "most": most,
                "has": len(given),
            }
        return N_("is too long: at most %(most)s characters") % {"most": most}
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        if least == 1:
            return N_("must not be empty")
        return N_("needs at least %(least)s characters") % {"least": least}
    if kind == "enum":
        choices = str(context.get("expected", "")).replace("'", "")
        return N_("must be one of: %(choices)s") % {"choices": choices}
    if kind in ("int_parsing", "int_type"):
        return N_("must be a whole number")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return raw.replace("Input should be", "must be")
    return None


def message(error: Mapping[str, Any], default: str = "invalid") -> str:
    """The reason in plain words: pydantic's common messages said as a person would, a check of
    our own without pydantic's "Value error, " prefix."""
    raw = str(error.get("msg", default))
    return _plain(str(error.get("type", "")), raw, error) or raw.removeprefix("Value error, ")


def named_field(text: str) -> tuple[str, str] | None:
    """("end_time", "must be after start_time") from "end_time: must be after start_time": a
    check of a whole model names its field at the start of its message."""
    name, sep, rest = text.partition(": ")
    if sep and name.replace("_", "").isalpha():
        return name, rest
    return None


def date_problem(text: str) -> str | None:
    """Why `text` is not a date, in plain words ("2027-06-31 is not a date: June has 30 days"),
    or None when it is one (YYYY-MM-DD)."""
    shape = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if shape is None:
        return f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2027-06-30"
    year, month, day = (int(part) for part in shape.groups())
    if year == 0:
        return f"{text} is not a date: there is no year 0"
    if not 1 <= month <= 12:
        return f"{text} is not a date: there is no month {month} (months are 01 to 12)"
    days = calendar.monthrange(year, month)[1]
    if day == 0:
        return f"{text} is not a date: days start at 01"
    if day > days:
        name = calendar.month_name[month] + (f" {year}" if month == 2 else "")
        return f"{text} is not a date: {name} has {days} days"
    return None
