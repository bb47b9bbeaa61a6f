"""Alembic migrations of the store (run by ``agent.store.engine``; no alembic.ini)."""
