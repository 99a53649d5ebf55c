"""A rendered feed: its bytes, their gzip coding made on first use, its ETag and Last-Modified,
and the encoded header lists the HTTP layer builds once per kind of answer."""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass, field
from email.utils import format_datetime
from functools import cached_property


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str
    last_modified: dt.datetime
    filename: str
    # Encoded HTTP header lists per answer, filled by the HTTP layer: a poll builds none.
    answers: dict[tuple[object, ...], list[tuple[bytes, bytes]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def gzip_etag(self) -> str:
        """The strong ETag of the gzip-coded answer: a strong validator differs per content
        coding (RFC 9110 8.8.3), so the same bytes compressed carry a tag of their own."""
        return self.etag[:-1] + '-gzip"'

    @property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    @cached_property
    def gzipped(self) -> bytes:
        """Compressed on first use: a write re-renders without paying for it, and a feed no
        client asks gzip for never pays at all. Two racing threads compute the same bytes."""
        return gzip.compress(self.body, compresslevel=gzip_level(len(self.body)), mtime=0)

    @property
    def size(self) -> int:
        # Counted as if compressed too (about a fifth of the body), before it is.
        return len(self.body) + len(self.body) // 5


def gzip_level(size: int) -> int:
    """Best compression for feeds as small as most are; a faster level keeps a multi-megabyte
    feed's re-render short (the ratio of level 6 is within a few percent of 9 on .ics text)."""
    return 9 if size < 1_000_000 else 6
