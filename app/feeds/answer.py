"""One answer to a feed poll: 200 or 304, gzip or identity, and its headers, decided here for the
routes (app.api.feeds), the fast path and the front (app.edge.fastpath); each kind of header
list is encoded once per rendered feed."""

from __future__ import annotations

from app.core import conditional
from app.feeds.rendered import RenderedFeed

ICS = "text/calendar; charset=utf-8"
Headers = list[tuple[bytes, bytes]]
FeedAnswer = tuple[int, Headers, bytes]


def is_fresh(
    rendered: RenderedFeed, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether the client's copy is current (RFC 9110): If-None-Match by weak comparison (the
    identity and the gzip tag name the same content), or, without it, If-Modified-Since."""
    if if_none_match is not None and if_none_match == rendered.etag:
        return True  # the common poll, without parsing a list
    return conditional.not_modified(
        (rendered.etag, rendered.gzip_etag),
        rendered.last_modified,
        if_none_match,
        if_modified_since,
    )


def wants_gzip(accept_encoding: str | None) -> bool:
    return accept_encoding is not None and "gzip" in accept_encoding.lower()


def answer_headers(rendered: RenderedFeed, status: int, gzipped: bool, max_age: int) -> Headers:
    """The encoded headers of one kind of answer, built once per rendered feed. A 304 names the
    tag of the answer this request would have got."""
    key = (status, gzipped, max_age)
    cached = rendered.answers.get(key)
    if cached is not None:
        return cached
    common = {
        "etag": rendered.gzip_etag if gzipped else rendered.etag,
        "last-modified": rendered.last_modified_http,
        "cache-control": f"public, max-age={max_age}",
        "vary": "Accept-Encoding",
    }
    if status == 200:
        common["content-disposition"] = f'inline; filename="{rendered.filename}"'
        if gzipped:
            common["content-encoding"] = "gzip"
        common["content-length"] = str(len(rendered.gzipped if gzipped else rendered.body))
        common["content-type"] = ICS
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in common.items()]
    rendered.answers[key] = encoded
    return encoded


def feed_answer(
    rendered: RenderedFeed,
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    accept_encoding: str | None,
    max_age: int,
) -> FeedAnswer:
    """Status, headers and body for a rendered feed: 304 when the client has it, gzip when
    asked (HEAD drops the body at the edge, app.edge.head)."""
    gzipped = wants_gzip(accept_encoding)
    if is_fresh(rendered, if_none_match, if_modified_since):
        return 304, answer_headers(rendered, 304, gzipped, max_age), b""
    body = rendered.gzipped if gzipped else rendered.body
    return 200, answer_headers(rendered, 200, gzipped, max_age), body
