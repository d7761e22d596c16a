"""Raw SQL for tests that set up or inspect a database state no storage function writes."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, text

from storage.engine import reading, transactional

#: Statements that only read: their transaction takes no write lock (as the storage reads).
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def run_sql(db: Connection, statement: str, /, **params: object) -> list[RowMapping]:
    """Run one statement (``:name`` parameters), committed unless a transaction is open on ``db``.

    Returns its rows as mappings (none for a statement that returns no rows).
    """
    run = _read if statement.lstrip().upper().startswith(_READS) else _write
    return run(db, statement, params)


def _execute(db: Connection, statement: str, params: dict[str, object]) -> list[RowMapping]:
    result = db.execute(text(statement), params)
    return list(result.mappings()) if result.returns_rows else []


_read = reading(_execute)
_write = transactional(_execute)
