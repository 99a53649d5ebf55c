"""Alembic's migration scripts for the store (run by app.migrate, never imported by the app)."""
