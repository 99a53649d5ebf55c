"""What the feeds write by hand besides the VTIMEZONE (app.timezone.vtimezone): the PRODID, and
RFC 5545
TEXT escaping, which icalendar's own text type would get wrong for a title holding the two
characters \\N (app.ical.event). icalendar builds and folds every line."""

from __future__ import annotations

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
