"""Each meeting's data revision at its last write, indexed: a feed rendered at revision R reads
only the meetings written since (app.feeds.selection). Existing rows get 0, older than any render.
The feed index covers the revision instead of the version: a feed's rows are (id, group,
revision, sequence).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all before migrations existed may have them already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("meeting")}
    if "revision" not in columns:
        with op.batch_alter_table("meeting") as batch:
            column = sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
            batch.add_column(column)
    op.create_index("ix_meeting_revision", "meeting", ["revision"], if_not_exists=True)
    _feed_index("revision")


def downgrade() -> None:
    _feed_index("version")
    op.drop_index("ix_meeting_revision", table_name="meeting")
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("revision")


def _feed_index(stamp: str) -> None:
    """ix_meeting_feed (migration 0005) again, covering `stamp` after id and group_id."""
    op.drop_index("ix_meeting_feed", table_name="meeting", if_exists=True)
    timed = sa.text("(start_utc IS NOT NULL)")
    covered: list[str | sa.TextClause] = ["geneva_date", timed, "start_utc", "uid"]
    covered += ["status", "id", "group_id", stamp, "sequence"]
    op.create_index("ix_meeting_feed", "meeting", covered)
