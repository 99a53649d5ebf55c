"""RFC 5545 content lines written by hand: TEXT escaping, folding at 75 octets, and the
DATE, DATE-TIME and DURATION values the events and feeds use."""

from __future__ import annotations

import datetime as dt

CRLF = "\r\n"
PRODID = "-//U4SSC//U4SSC meeting calendar//EN"


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping; every newline becomes the two characters \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence and never
    inside an escape (a backslash and the character it escapes), since some clients unfold
    escapes badly. A fold goes before a run of backslashes where the line allows it; within a
    run longer than a line, only after a whole number of escaped backslashes."""
    if len(line) <= 75 and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to the start
            end -= 1
        run = end
        while run > start and data[run - 1] == 0x5C:  # "\"
            run -= 1
        if run == end:
            pass  # no backslash before the cut
        elif run > start:
            end = run  # the whole run goes to the next line
        else:
            # The line is all backslashes: cut after an even number of the run, which may have
            # begun on an earlier line, so that every escape stays whole.
            first = run
            while first > 0 and data[first - 1] == 0x5C:
                first -= 1
            if (end - first) % 2:
                end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines begin with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")


def line(name: str, value: str) -> str:
    line = f"{name}:{value}"
    if len(line) <= 75 and line.isascii():  # most lines: skip the call
        return line + CRLF
    return fold(line) + CRLF


def text(name: str, value: str) -> str:
    return line(name, escape_text(value))


def utc(instant: dt.datetime) -> str:
    if instant.utcoffset():
        instant = instant.astimezone(dt.UTC)
    i = instant
    return f"{i.year:04d}{i.month:02d}{i.day:02d}T{i.hour:02d}{i.minute:02d}{i.second:02d}Z"


def ymd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def hms(clock: dt.time) -> str:
    return f"{clock.hour:02d}{clock.minute:02d}{clock.second:02d}"


def duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and not minutes:
        return f"PT{hours}H"
    return f"PT{hours}H{minutes}M" if hours else f"PT{minutes}M"
