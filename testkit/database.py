"""Raw SQL for tests that set up or inspect a database state no storage function writes."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, text


def run_sql(db: Connection, statement: str, /, **params: object) -> list[RowMapping]:
    """Run one statement (``:name`` parameters), committed unless a transaction is open on ``db``.

    Returns its rows as mappings (none for a statement that returns no rows).
    """
    if db.in_transaction():
        result = db.execute(text(statement), params)
        return list(result.mappings()) if result.returns_rows else []
    with db.begin():
        result = db.execute(text(statement), params)
        return list(result.mappings()) if result.returns_rows else []
