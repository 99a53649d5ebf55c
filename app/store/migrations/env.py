"""Alembic's entry point: runs the migrations on the connection app.store.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData
from sqlmodel import SQLModel

from app import models  # noqa: F401 - registers the tables

target_metadata: MetaData = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Only app.store.migrate runs migrations: it takes the lock that keeps replicas from racing.
        raise RuntimeError("run migrations with `u4ssc-calendar migrate`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
