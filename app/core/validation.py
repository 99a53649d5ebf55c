"""Pydantic's validation errors in the words every surface shows: the API's 422, the console's
form errors, the command line and the crud layer's Invalid."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Any


def message(error: Mapping[str, Any], default: str = "invalid") -> str:
    """The reason without pydantic's "Value error, " prefix."""
    return str(error.get("msg", default)).removeprefix("Value error, ")


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
