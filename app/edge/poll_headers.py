"""The request headers a cached answer depends on, found in one pass over an ASGI header list
(names arrive in lower case from the servers, as the ASGI spec asks)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class PollHeaders(NamedTuple):
    """Each header's raw value, None when absent."""

    host: bytes | None = None
    if_none_match: bytes | None = None
    if_modified_since: bytes | None = None
    accept_encoding: bytes | None = None
    origin: bytes | None = None
    cookie: bytes | None = None
    authorization: bytes | None = None


_SLOTS = {name.replace("_", "-").encode(): index for index, name in enumerate(PollHeaders._fields)}
_EMPTY = PollHeaders()


def read_once(headers: Iterable[tuple[bytes, bytes]]) -> PollHeaders | None:
    """Each of those headers' value, or None when any of them comes twice: the front leaves
    such a request to the full stack, whose layers each settle it their way."""
    found: list[bytes | None] | None = None
    for name, value in headers:
        slot = _SLOTS.get(name)
        if slot is not None:
            if found is None:
                found = [None] * len(_SLOTS)
            elif found[slot] is not None:
                return None
            found[slot] = value
    return _EMPTY if found is None else PollHeaders(*found)


def read_first(headers: Iterable[tuple[bytes, bytes]]) -> PollHeaders:
    """Each of those headers' first value."""
    found: list[bytes | None] = [None] * len(_SLOTS)
    for name, value in headers:
        slot = _SLOTS.get(name)
        if slot is not None and found[slot] is None:
            found[slot] = value
    return PollHeaders(*found)
