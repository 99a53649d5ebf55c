"""The selection a feed URL names, read by one parser: the routes (app.api.feeds), the fast path
and the front all use it, so a URL means the same feed wherever it is answered."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from app.feeds.selection import FeedSelection
from app.i18n.languages import DEFAULT, LANGUAGES

# The most values a repeatable parameter (`group`) may take in one request.
MAX_LIST_PARAMS = 50
_ALARM = re.compile(r"[0-9]{1,4}")


def parse_selection(path: str, query_string: bytes) -> FeedSelection | None:
    """The selection a feed URL names, when its parameters are plainly valid; None sends the
    request on to the routes (which then answer it, errors included).

    Mirrors the routes' parameters: `group` (repeatable, /calendar.ics only), `alarm` (0..1440),
    `cancelled` (show|hide, not for one meeting), `lang` (one of the six codes, exactly); other
    parameters are ignored, as there."""
    if path == "/calendar.ics":
        groups: tuple[str, ...] = ()
        uid = None
    elif path.startswith("/groups/") and path.endswith("/calendar.ics"):
        slug = path[len("/groups/") : -len("/calendar.ics")]
        if not slug or "/" in slug:
            return None
        groups, uid = (slug,), None
    elif path.startswith("/meetings/") and path.endswith(".ics"):
        uid = path[len("/meetings/") : -len(".ics")]
        if not uid or "/" in uid:
            return None
        groups = ()
    else:
        return None
    if not query_string:
        return FeedSelection(groups, uid, None, False)
    chosen: list[str] = []
    alarm: int | None = None
    cancelled: str | None = None
    lang: str | None = None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "group" and path == "/calendar.ics":
            chosen.append(value)
        elif name == "alarm":
            if alarm is not None or not _ALARM.fullmatch(value) or int(value) > 1440:
                return None
            alarm = int(value)
        elif name == "cancelled" and uid is None:
            if cancelled is not None or value not in ("show", "hide"):
                return None
            cancelled = value
        elif name == "lang":
            if lang is not None or value not in LANGUAGES:
                return None
            lang = value
    if chosen:
        if len(chosen) > MAX_LIST_PARAMS:
            return None
        groups = tuple(dict.fromkeys(chosen))
    return FeedSelection(groups, uid, alarm, cancelled == "hide", lang or DEFAULT)
