"""Conditional requests (RFC 9110): entity-tag lists, and whether If-None-Match or, without
it, If-Modified-Since says the client's copy is current. Plain functions over header values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.utils import parsedate_to_datetime


def etag_list(header: str) -> set[str]:
    """The entity tags of an If-Match or If-None-Match list, weak ones compared as strong."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def not_modified(
    etags: Iterable[str],
    last_modified: dt.datetime,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> bool:
    """True when the client holds one of `etags` (weak comparison), or, when it sent no
    If-None-Match, a copy at least as new as `last_modified` (to the second)."""
    if if_none_match is not None:
        tags = etag_list(if_none_match)
        return "*" in tags or any(etag in tags for etag in etags)
    if if_modified_since:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False
