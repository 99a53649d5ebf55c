"""Stored event texts: each meeting's VEVENT per rendering context (app.feeds.event_store).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storedevent",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("stamp", sa.String(length=120), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "context"),
    )


def downgrade() -> None:
    op.drop_table("storedevent")
