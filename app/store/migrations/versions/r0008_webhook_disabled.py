"""A webhook can be disabled (`u4ssc-calendar webhook disable ID`) and enabled again: changes are
not sent to a disabled one. Existing webhooks are enabled.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook") as batch:
        column: sa.Column[bool] = sa.Column(
            "disabled", sa.Boolean(), nullable=False, server_default=sa.false()
        )
        batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("webhook") as batch:
        batch.drop_column("disabled")
