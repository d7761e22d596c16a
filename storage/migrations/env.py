"""Alembic's environment: migrations run on the connection :func:`storage.schema.migrate` opened.

That connection already holds the migration lock (SQLite's write lock, PostgreSQL's advisory
lock) in its open transaction, so every step runs in it and replicas starting together apply
each step once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):  # pragma: no cover - only storage.schema runs these
    raise TypeError("smsbot's migrations run from storage.schema.migrate, with a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters a table by copying it: Alembic's batch mode does that
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
