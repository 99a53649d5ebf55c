"""Edits made by people since the seed last wrote a field, read from the audit trail: a seed
keeps them unless forced (issue 24: `seed` silently undid the console's edits to groups).

A field counts as edited when the last change of it in the audit trail (its create, or an update
whose before and after differ in it) was made by anyone but the seed: the console, the API or
the command line. A forced seed writes the field; from then on the seed is its last writer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from app import crud
from app.models import Change

SEED_ACTOR = crud.SEED_ACTOR


def _plain(value: Any) -> Any:
    """Values as the audit trail stores them (JSON), so that a row and a file compare."""
    return json.loads(json.dumps(value, default=str))


class HandEdits:
    """The audit trail's last writer of every field of every group and meeting, read once."""

    def __init__(self, session: Session) -> None:
        self._last: dict[tuple[str, str], dict[str, Change]] = {}
        rows = session.exec(
            select(Change)
            .where(col(Change.entity).in_(("group", "meeting")))
            .order_by(col(Change.id))
        )
        for row in rows:
            fields = self._last.setdefault((row.entity, row.key), {})
            before, after = row.before or {}, row.after or {}
            for name in before.keys() | after.keys():
                if row.before is None or before.get(name) != after.get(name):
                    fields[name] = row

    def kept(
        self,
        entity: str,
        key: str,
        target: Mapping[str, Any],
        current: Mapping[str, Any],
    ) -> tuple[list[str], str]:
        """The fields where `target` (the file) differs from `current` (the store) and a person
        changed them last, and a note naming who and when."""
        last = self._last.get((entity, key), {})
        fields = [
            name
            for name, value in target.items()
            if name in current
            and _plain(value) != _plain(current[name])
            and name in last
            and last[name].actor != SEED_ACTOR
        ]
        who = sorted({f"{last[n].actor} on {last[n].at:%Y-%m-%d %H:%M} UTC" for n in fields})
        return fields, f"{', '.join(fields)} (edited by {'; '.join(who)})"
