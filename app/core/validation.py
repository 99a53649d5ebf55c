"""Pydantic's validation errors in the words every surface shows: the API's 422, the console's
form errors, the command line and the crud layer's Invalid."""

from __future__ import annotations

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
