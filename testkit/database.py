"""Raw SQL for tests that set up or inspect a database state no storage function writes."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, text

from storage.engine import make_engine, parse_database_url, reading, transactional

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


class Readers:
    """A test's own connections to databases other processes write: one per URL, kept until closed.

    ``open_database`` at each read of a wait (every 10 ms) connects and checks the schema under
    a write lock each time, costing the test, and the server, more than the waits it serves;
    here the processes under test have made the schema, and a read is one query.
    """

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}

    def rows(
        self, url: str | os.PathLike[str], statement: str, /, **params: object
    ) -> list[dict[str, Any]]:
        """The rows of one reading statement on ``url`` (a URL or a SQLite path), as mappings."""
        key = os.fspath(url)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = make_engine(parse_database_url(key))
        with engine.connect() as db:
            return [dict(row) for row in run_sql(db, statement, **params)]

    def close(self) -> None:
        """Close every connection (before the databases are removed)."""
        while self._engines:
            self._engines.popitem()[1].dispose()
