"""Stored event texts: each meeting's VEVENT kept in the store per meeting write and rendering
context, so that a new process, a restart or another replica assembles every feed without
rendering an event again.

A text is valid while its stamp (the revision of the meeting's last write, its sequence, its
group's and parent's versions) and its context (base URL, uid domain, organizer, alarm,
renderer version, language) match; a stale one is rendered again when a feed next needs it, and
written back in one short transaction on a connection of the store's own, never on the
request's. The six languages are six contexts: a fixed set, as the rows they may add.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import driver_rows, make_engine, write_session
from app.feeds.event_cache import Stamp
from app.i18n.languages import DEFAULT
from app.ical.event import RENDERER_VERSION
from app.ical.wording import FeedContext
from app.models import StoredEvent

log = logging.getLogger("u4ssc")

_CHUNK = 500
_TABLE: Any = StoredEvent.__table__  # type: ignore[attr-defined]
# Event texts with a reminder are kept in memory only: any of 1441 alarm values would
# otherwise multiply the rows.
STORED_ALARMS = (None,)


def context_key(ctx: FeedContext, alarm: int | None) -> str:
    """What an event's text depends on besides its meeting and group, as a short hash."""
    seen: tuple[object, ...] = (
        RENDERER_VERSION,
        ctx.base_url,
        ctx.uid_domain,
        ctx.organizer_email,
        alarm,
    )
    if ctx.lang != DEFAULT:  # English keeps the texts it stored before languages existed
        seen += (ctx.lang,)
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:32]


def stamp_text(stamp: Stamp) -> str:
    """A text's stamp as stored: "revision.sequence.group version.parent version"."""
    revision, sequence, (group, parent) = stamp
    return f"r{revision}.{sequence}.{group}.{parent}"


def feed_tag(parts: Iterable[object]) -> str:
    """A strong ETag from versions, not from the body: the same versions give the same tag
    in every process."""
    digest = hashlib.sha256(repr((RENDERER_VERSION, *parts)).encode()).hexdigest()
    return '"' + digest[:40] + '"'


class EventStore:
    """Reads stored texts on the caller's session; writes them back at once on a connection of
    its own (its own small pool: a request never waits on the service's pool for it)."""

    def __init__(self, engine: Engine, keep: bool = True) -> None:
        # False: the contexts are not a fixed set (Settings.keeps_rendered_texts); keep nothing.
        self.keep = keep
        database = engine.url.database
        in_memory = engine.dialect.name == "sqlite" and (
            not database or database == ":memory:" or "mode=memory" in str(engine.url)
        )
        self._engine = (
            engine
            if in_memory
            else make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
        )
        self._own = self._engine is not engine
        self.loaded = 0
        self.saved = 0

    def lookup(
        self,
        session: Session,
        wanted: dict[int, Stamp],
        ctx: FeedContext,
        alarm: int | None,
    ) -> list[tuple[int, Stamp, bytes]]:
        """Stored texts (meeting id, stamp, bytes) of the wanted meetings whose stored stamp is
        the one wanted. Many are read in one pass over the context's rows, a few by id."""
        if alarm not in STORED_ALARMS or not wanted or not self.keep:
            return []
        context = context_key(ctx, alarm)
        columns = (_TABLE.c.meeting_id, _TABLE.c.stamp, _TABLE.c.body)
        if len(wanted) > _CHUNK * 4:
            statements = [select(*columns).where(_TABLE.c.context == context)]
        else:
            ids = list(wanted)
            statements = [
                select(*columns).where(
                    _TABLE.c.context == context, _TABLE.c.meeting_id.in_(ids[i : i + _CHUNK])
                )
                for i in range(0, len(ids), _CHUNK)
            ]
        texts = {meeting_id: stamp_text(s) for meeting_id, s in wanted.items()}
        found: list[tuple[int, Stamp, bytes]] = []
        for statement in statements:
            for meeting_id, stored_stamp, body in driver_rows(session.connection(), statement):
                if texts.get(meeting_id) == stored_stamp:
                    found.append((meeting_id, wanted[meeting_id], body.encode("utf-8")))
        self.loaded += len(found)
        return found

    def save(
        self,
        session: Session,
        rendered: Sequence[tuple[int, Stamp, bytes]],
        ctx: FeedContext,
        alarm: int | None,
    ) -> None:
        """Write texts just rendered (meeting id, stamp, bytes) back, before the feed is
        answered: the next writer then never finds this one's transaction in its way. Skipped
        inside a write session, whose own lock the write would wait for."""
        if alarm not in STORED_ALARMS or session.info.get("writes") or not rendered:
            return
        if not self.keep:
            return
        context = context_key(ctx, alarm)
        items = [(m, context, stamp_text(s), text.decode("utf-8")) for m, s, text in rendered]
        try:
            for start in range(0, len(items), _CHUNK):
                self._write(items[start : start + _CHUNK])
        except Exception:
            # Only a cache: the texts are rendered again next time.
            log.warning("could not store rendered events", exc_info=True)
            return
        self.saved += len(items)

    def close(self) -> None:
        if self._own:
            self._engine.dispose()

    def _write(self, items: list[tuple[int, str, str, str]]) -> None:
        values = [{"meeting_id": m, "context": c, "stamp": s, "body": b} for m, c, s, b in items]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert: Any = dialect.insert(_TABLE).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=["meeting_id", "context"],
            set_={"stamp": insert.excluded.stamp, "body": insert.excluded.body},
        )
        with write_session(self._engine) as session:
            session.execute(statement)
