"""The request headers a cached answer depends on, found in one pass over an ASGI header list
(names arrive in lower case from the servers, as the ASGI spec asks)."""

from __future__ import annotations

from collections.abc import Iterable

HOST, IF_NONE_MATCH, IF_MODIFIED_SINCE, ACCEPT_ENCODING, ORIGIN, COOKIE, AUTHORIZATION = range(7)
_SLOTS = {
    b"host": HOST,
    b"if-none-match": IF_NONE_MATCH,
    b"if-modified-since": IF_MODIFIED_SINCE,
    b"accept-encoding": ACCEPT_ENCODING,
    b"origin": ORIGIN,
    b"cookie": COOKIE,
    b"authorization": AUTHORIZATION,
}

Found = list[bytes | None]


def read_once(headers: Iterable[tuple[bytes, bytes]]) -> Found | None:
    """Each of those headers' value (None when absent), or None when any of them comes twice:
    the front leaves such a request to the full stack, whose layers each settle it their way."""
    found: Found = [None] * 7
    for name, value in headers:
        slot = _SLOTS.get(name)
        if slot is not None:
            if found[slot] is not None:
                return None
            found[slot] = value
    return found


def read_first(headers: Iterable[tuple[bytes, bytes]]) -> Found:
    """Each of those headers' first value (None when absent)."""
    found: Found = [None] * 7
    for name, value in headers:
        slot = _SLOTS.get(name)
        if slot is not None and found[slot] is None:
            found[slot] = value
    return found
