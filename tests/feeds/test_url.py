"""The one parser of feed URLs (app.feeds.url), which the routes, the fast path and the front
all use."""

from __future__ import annotations

from app.feeds.selection import FeedSelection
from app.feeds.url import parse_selection


def test_the_selection_a_feed_url_names() -> None:
    assert parse_selection("/calendar.ics", b"") == FeedSelection()
    assert parse_selection("/calendar.ics", b"group=a&group=b&group=a&x=1") == FeedSelection(
        ("a", "b")
    )
    assert parse_selection("/groups/a/calendar.ics", b"alarm=15&cancelled=hide&group=z") == (
        FeedSelection(("a",), None, 15, True)
    )
    assert parse_selection("/meetings/m-1.ics", b"alarm=0&cancelled=hide") == FeedSelection(
        (), "m-1", 0, False
    )
    for path, query in [
        ("/calendar.ics", b"alarm=1441"),
        ("/calendar.ics", b"alarm=%2B5"),
        ("/calendar.ics", b"alarm=5&alarm=6"),
        ("/calendar.ics", b"cancelled=HIDE"),
        ("/calendar.ics", b"&".join([b"group=g"] * 51)),
        ("/groups//calendar.ics", b""),
        ("/groups/a/b/calendar.ics", b""),
        ("/meetings/.ics", b""),
        ("/other.ics", b""),
    ]:
        assert parse_selection(path, query) is None, (path, query)


def test_the_language_a_feed_url_names() -> None:
    assert parse_selection("/calendar.ics", b"").lang == "en"  # type: ignore[union-attr]
    for lang in ("ar", "en", "es", "fr", "ru", "zh"):
        assert parse_selection("/calendar.ics", f"lang={lang}".encode()) == FeedSelection(lang=lang)
    assert parse_selection("/meetings/m-1.ics", b"lang=zh&alarm=5") == FeedSelection(
        (), "m-1", 5, False, "zh"
    )
    # English's selection is the one without `lang`: the same cache entry and ETag.
    assert parse_selection("/groups/a/calendar.ics", b"lang=en") == parse_selection(
        "/groups/a/calendar.ics", b""
    )
    # Anything else is for the routes to refuse (a 422 naming the six).
    for query in (b"lang=de", b"lang=", b"lang=FR", b"lang=fr-CH", b"lang=fr&lang=es"):
        assert parse_selection("/calendar.ics", query) is None, query
