"""Texts per language (issue 26): a group's name and scope, a meeting's title and description in
the five UN languages besides English, as one JSON object per row. Existing rows read as {}, no
translation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("group", "meeting")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        # A database made by create_all before migrations existed may have it already.
        if "translations" in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table) as batch:
            column: sa.Column[object] = sa.Column(
                "translations", sa.JSON(), nullable=False, server_default="{}"
            )
            batch.add_column(column)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, not a batch: SQLite (3.35 and later) drops it in place, where
    # a batch would copy "group" and break the foreign keys that point at it.
    for table in TABLES:
        op.drop_column(table, "translations")
