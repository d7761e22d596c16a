"""Alembic's migration environment and the numbered schema steps (``versions/``)."""
