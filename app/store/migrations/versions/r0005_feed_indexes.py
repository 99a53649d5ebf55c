"""Covering indexes for feeds: a feed's meetings in feed order, and the zones and change time
its header needs, read from the index alone (app.feeds.selection).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    timed = sa.text("(start_utc IS NOT NULL)")
    covered: list[str | sa.TextClause] = ["geneva_date", timed, "start_utc", "uid"]
    covered += ["status", "id", "group_id", "version", "sequence"]
    # A database made by create_all before migrations existed may have them already.
    op.create_index("ix_meeting_feed", "meeting", covered, if_not_exists=True)
    has_times = sa.text("(start_time IS NOT NULL)")
    zones: list[str | sa.TextClause] = ["timezone", has_times, "status", "geneva_date"]
    zones += ["date", "updated_at"]
    op.create_index("ix_meeting_feed_zones", "meeting", zones, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_meeting_feed_zones", table_name="meeting")
    op.drop_index("ix_meeting_feed", table_name="meeting")
