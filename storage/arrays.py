"""Rows as arrays, one per column: how a batch of rows goes to PostgreSQL in one statement.

``executemany`` sends PostgreSQL one statement per row; a poll cycle's status changes, their
history rows and their outbox rows (:mod:`storage.outbox_queue`) go instead as one array
parameter per column, read back as a table with ``unnest``. SQLite runs its statement per row in
process and does not use these.

psycopg sends these lists in PostgreSQL's binary array format (:func:`storage.engine.make_engine`
registers its binary list dumper on each connection): its text format quotes and escapes each
element in Python, about ten times the CPU, the writer's main cost in a batch of claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def unnest_rows(columns: Mapping[str, Any]) -> sa.TableValuedAlias:
    """Rows given as one array parameter per column, as a table (PostgreSQL's ``unnest``).

    ``columns`` maps each column's name (its parameter's too) to its type.
    """
    return (
        sa.func.unnest(
            *(sa.bindparam(name, type_=postgresql.ARRAY(kind)) for name, kind in columns.items())
        )
        .table_valued(*(sa.column(name, kind) for name, kind in columns.items()))
        .render_derived("batch")
    )


def columns_of(rows: list[dict[str, object]], names: Iterable[str]) -> dict[str, list[object]]:
    """The rows' values, one list per column."""
    return {name: [row[name] for row in rows] for name in names}
