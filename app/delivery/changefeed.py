"""The change feed: the latest meetings added, rescheduled (old -> new time) and cancelled, and
groups whose status changed, as Atom 1.0 built with feedgen.

Built from the audit trail, showing public data only: never who made a change (an account or
token name).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from feedgen.feed import FeedGenerator
from sqlmodel import Session, col, select

from app.delivery import announce
from app.models import Change
from app.readmodel import links
from app.readmodel.groups import GroupInfo, group_index

MAX_ENTRIES = 100
_BATCH = 500
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    title: str
    link: str
    content: str


@dataclass(frozen=True)
class AtomFeed:
    body: bytes
    etag: str
    last_modified: dt.datetime


def _aware(stamp: dt.datetime) -> dt.datetime:
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def _when(snapshot: dict[str, Any]) -> str:
    return announce.snapshot_when(snapshot)[0]


def _when_both(snapshot: dict[str, Any]) -> str:
    """In Geneva time, and in UTC when the meeting has times."""
    geneva, utc = announce.snapshot_when(snapshot)
    return f"{geneva} ({utc})" if utc else geneva


def _status(value: Any) -> str:
    return str(value or "not stated").replace("_", " ").capitalize()


def _changes(session: Session) -> Iterator[Change]:
    """The audit trail, newest first, read in batches."""
    last: int | None = None
    while True:
        statement = select(Change).order_by(col(Change.id).desc()).limit(_BATCH)
        if last is not None:
            statement = statement.where(col(Change.id) < last)
        rows = session.exec(statement).all()
        yield from rows
        if len(rows) < _BATCH:
            return
        last = rows[-1].id


def _meeting_entry(
    change: Change, by_slug: dict[str, GroupInfo], base: str
) -> tuple[str, str, str] | None:
    before, after = change.before or {}, change.after or {}
    now = after or before
    slug = str(now.get("group"))
    info = by_slug.get(slug)
    label = info.label if info else slug
    what = label + (f": {now['title']}" if now.get("title") else "")
    link = links.meeting_page_url(base, slug, change.key)
    kind = announce.kind_of(change.action, change.before, change.after)
    if change.action == "purge" or kind == announce.UPDATED:
        return None
    if kind == announce.CREATED:
        return f"Added: {what}, {_when(after)}", link, f"New e-meeting of {label}: {_when(after)}."
    if kind == announce.CANCELLED:
        return f"Cancelled: {what}, {_when(after)}", link, f"Cancelled: the e-meeting of {label}."
    old, new = _when(before), _when(after)
    moved = f"Moved from {_when_both(before)} to {_when_both(after)}."
    return f"Rescheduled: {what}, {old} → {new}", link, moved


def _group_entry(change: Change, base: str) -> tuple[str, str, str] | None:
    before, after = change.before or {}, change.after or {}
    if change.action != "update" or before.get("status") == after.get("status"):
        return None
    old, new = _status(before.get("status")), _status(after.get("status"))
    name = after.get("name") or change.key
    note = f" ({after['status_note']})" if after.get("status_note") else ""
    return (
        f"Status: {name}: {old} → {new}",
        f"{base}/groups/{change.key}",
        f"{name} is now {new.lower()}{note}.",
    )


def entries(
    session: Session, base: str, slugs: set[str] | None = None, limit: int = MAX_ENTRIES
) -> list[Entry]:
    """The newest `limit` changes worth telling, of the groups `slugs` (None: all)."""
    by_slug = {info.slug: info for info in group_index(session).values()}
    found: list[Entry] = []
    for change in _changes(session):
        if change.entity == "meeting":
            groups = {str((snap or {}).get("group")) for snap in (change.before, change.after)}
            told = (
                _meeting_entry(change, by_slug, base) if slugs is None or groups & slugs else None
            )
        elif change.entity == "group" and (slugs is None or change.key in slugs):
            told = _group_entry(change, base)
        else:
            told = None
        if told is not None and change.id is not None:
            title, link, content = told
            found.append(Entry(change.id, _aware(change.at), title, link, content))
            if len(found) >= limit:
                break
    return found


def render(
    items: list[Entry], *, title: str, feed_url: str, page_url: str, uid_domain: str
) -> AtomFeed:
    """Atom 1.0, newest first; the same entries give the same bytes and ETag."""
    generator = FeedGenerator()
    generator.id(feed_url)
    generator.title(title)
    generator.subtitle("Meetings added, rescheduled and cancelled; group status changes.")
    generator.link(href=feed_url, rel="self", type="application/atom+xml")
    generator.link(href=page_url, rel="alternate", type="text/html")
    generator.author({"name": "U4SSC secretariat"})
    generator.language("en")
    newest = items[0].at if items else EPOCH
    generator.updated(newest)
    # feedgen writes entries in reverse order of adding: add the oldest first.
    for item in reversed(items):
        entry = generator.add_entry()
        entry.id(f"tag:{uid_domain},2023:change/{item.id}")
        entry.title(item.title)
        entry.link(href=item.link, rel="alternate", type="text/html")
        entry.updated(item.at)
        entry.published(item.at)
        entry.content(item.content, type="text")
    body: bytes = generator.atom_str(pretty=True)
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return AtomFeed(body, etag, newest)
