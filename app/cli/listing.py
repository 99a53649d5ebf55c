"""How every `list` command prints: a header line then tab-separated rows, or with --json one
JSON array of objects with the same fields (dates in ISO 8601), for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

JSON_HELP = "print a JSON array of objects (the columns as fields) instead of the table"


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def emit(args: argparse.Namespace, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """The rows (each with every column as a key) as a table with a header, or as JSON."""
    if getattr(args, "json", False):
        plain = [{name: _plain(row[name]) for name in columns} for row in rows]
        print(json.dumps(plain, ensure_ascii=False, indent=2))
        return
    print("\t".join(name.upper() for name in columns))
    for row in rows:
        print("\t".join(_cell(row[name]) for name in columns))
