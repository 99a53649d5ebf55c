"""Subscribers of invitations by email (issue 25) and the groups each follows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 03:50:12.804833
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirm_hash", sa.String(length=64), nullable=True),
        sa.Column("confirm_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirm_groups", sa.JSON(), nullable=True),
        sa.Column("manage_token", sa.String(length=64), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("manage_token"),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_confirm_hash"), ["confirm_hash"], unique=False
        )
    op.create_table(
        "subscriber_group",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["group.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "group_id"),
    )
    with op.batch_alter_table("subscriber_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_group_group_id"), ["group_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("subscriber_group")
    op.drop_table("subscriber")
