"""The change feed: the latest meetings added, rescheduled (old -> new time) and cancelled, and
groups whose status changed, as Atom 1.0 built with feedgen, in any of the six languages (the
words from its catalog, group and meeting texts from the translations the audit trail kept).

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

from app.delivery import announce, when
from app.i18n.catalogs import translator
from app.i18n.languages import DEFAULT
from app.models import Change, Group, text_in
from app.readmodel import links
from app.readmodel.groups import GroupInfo, group_index, name_in

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


def _when(snapshot: dict[str, Any], lang: str) -> str:
    return when.snapshot_when(snapshot, lang)[0]


def _when_both(snapshot: dict[str, Any], lang: str) -> str:
    """In Geneva time, and in UTC when the meeting has times."""
    geneva, utc = when.snapshot_when(snapshot, lang)
    return f"{geneva} ({utc})" if utc else geneva


def _status(value: Any, lang: str) -> str:
    _ = translator(lang)
    if not value:
        return _("Not stated")
    return links.status_words(str(value), lang)


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
    change: Change, by_slug: dict[str, GroupInfo], base: str, lang: str
) -> tuple[str, str, str] | None:
    _ = translator(lang)
    before, after = change.before or {}, change.after or {}
    now = after or before
    slug = str(now.get("group"))
    info = by_slug.get(slug)
    label = info.label_in(lang) if info else slug
    title = text_in(now.get("translations"), "title", lang, now.get("title") or "")[0]
    what = _("%(group)s: %(title)s") % {"group": label, "title": title} if title else label
    link = links.meeting_page_url(base, slug, change.key)
    kind = announce.kind_of(change.action, change.before, change.after)
    if change.action == "purge" or kind == announce.UPDATED:
        return None
    if kind == announce.CREATED:
        values = {"what": what, "group": label, "when": _when(after, lang)}
        return (
            _("Added: %(what)s, %(when)s") % values,
            link,
            _("New e-meeting of %(group)s: %(when)s.") % values,
        )
    if kind == announce.CANCELLED:
        values = {"what": what, "group": label, "when": _when(after, lang)}
        return (
            _("Cancelled: %(what)s, %(when)s") % values,
            link,
            _("Cancelled: the e-meeting of %(group)s.") % values,
        )
    moved = {"old": _when_both(before, lang), "new": _when_both(after, lang)}
    short = {"what": what, "old": _when(before, lang), "new": _when(after, lang)}
    return (
        _("Rescheduled: %(what)s, %(old)s → %(new)s") % short,
        link,
        _("Moved from %(old)s to %(new)s.") % moved,
    )


def _group_entry(change: Change, base: str, lang: str) -> tuple[str, str, str] | None:
    _ = translator(lang)
    before, after = change.before or {}, change.after or {}
    if change.action != "update" or before.get("status") == after.get("status"):
        return None
    old, new = _status(before.get("status"), lang), _status(after.get("status"), lang)
    english = after.get("name") or change.key
    name = text_in(after.get("translations"), "name", lang, english)[0]
    values = {"name": name, "old": old, "new": new, "status": new.lower()}
    note = after.get("status_note")
    return (
        _("Status: %(name)s: %(old)s → %(new)s") % values,
        f"{base}/groups/{change.key}",
        (_("%(name)s is now %(status)s (%(note)s).") % {**values, "note": note})
        if note
        else _("%(name)s is now %(status)s.") % values,
    )


def entries(
    session: Session,
    base: str,
    slugs: set[str] | None = None,
    limit: int = MAX_ENTRIES,
    lang: str = DEFAULT,
) -> list[Entry]:
    """The newest `limit` changes worth telling, of the groups `slugs` (None: all), in
    `lang`."""
    by_slug = {info.slug: info for info in group_index(session).values()}
    found: list[Entry] = []
    for change in _changes(session):
        if change.entity == "meeting":
            groups = {str((snap or {}).get("group")) for snap in (change.before, change.after)}
            told = (
                _meeting_entry(change, by_slug, base, lang)
                if slugs is None or groups & slugs
                else None
            )
        elif change.entity == "group" and (slugs is None or change.key in slugs):
            told = _group_entry(change, base, lang)
        else:
            told = None
        if told is not None and change.id is not None:
            title, link, content = told
            found.append(Entry(change.id, _aware(change.at), title, link, content))
            if len(found) >= limit:
                break
    return found


def title(group: Group | None, lang: str = DEFAULT) -> str:
    """The feed's title: the whole calendar's, or one group's."""
    _ = translator(lang)
    if group is None:
        return _("U4SSC meeting calendar: changes")
    return _("U4SSC %(group)s: changes") % {"group": name_in(group, lang)}


def render(
    items: list[Entry],
    *,
    title: str,
    feed_url: str,
    page_url: str,
    uid_domain: str,
    lang: str = DEFAULT,
) -> AtomFeed:
    """Atom 1.0, newest first, in `lang`; the same entries give the same bytes and ETag."""
    _ = translator(lang)
    generator = FeedGenerator()
    generator.id(feed_url)
    generator.title(title)
    generator.subtitle(_("Meetings added, rescheduled and cancelled; group status changes."))
    generator.link(href=feed_url, rel="self", type="application/atom+xml")
    generator.link(href=page_url, rel="alternate", type="text/html")
    generator.author({"name": _("U4SSC secretariat")})
    generator.language(lang)
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
