"""Creates made under a client's key (Idempotency-Key, a console form's one-time key), kept a
day, so a repeat gets what the first made.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotentwrite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("made", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor", "key"),
    )
    op.create_index("ix_idempotentwrite_at", "idempotentwrite", ["at"])


def downgrade() -> None:
    op.drop_index("ix_idempotentwrite_at", table_name="idempotentwrite")
    op.drop_table("idempotentwrite")
