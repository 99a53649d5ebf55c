"""Alembic's migration scripts (run by app.store.migrate, never imported by the app)."""
