"""Rows sent as one array per column come back as they were, whatever their values hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from storage.arrays import columns_of, unnest_rows
from tests import postgres

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Connection

COLUMNS = {
    "name": sa.String(),
    "count": sa.Integer(),
    "big": sa.BigInteger(),
    "flag": sa.Boolean(),
}
ROWS = unnest_rows(COLUMNS)
READ_BACK = sa.select(ROWS)

#: Text that an array's text form must quote or escape, and text it need not.
AWKWARD = [
    "plain",
    "",
    "with space",
    'a "quoted" word',
    "back\\slash",
    "{braces},commas",
    "NULL",
    "ação, 日本, emoji 📦",
    "line\nbreak\ttab",
]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Connection]:
    """A connection to this worker's PostgreSQL database, as storage opens it (nothing is written)."""
    with postgres.kept_engine(postgres_url).connect() as connection:
        yield connection


def _round_trip(db: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` sent as arrays, unnested and read back."""
    with db.begin():
        return [dict(row) for row in db.execute(READ_BACK, columns_of(rows, COLUMNS)).mappings()]


def test_awkward_text_and_numbers_come_back_unchanged(pg: Connection) -> None:
    """Quotes, backslashes, braces, the word NULL, non-ASCII, big integers: each row as sent."""
    rows = [
        {"name": text, "count": i, "big": 2**40 + i, "flag": i % 2 == 0}
        for i, text in enumerate(AWKWARD)
    ]
    assert _round_trip(pg, rows) == rows


def test_nulls_come_back_as_nulls_in_any_column(pg: Connection) -> None:
    """A None among values, and a column of None only, both read back as None."""
    rows: list[dict[str, Any]] = [
        {"name": None, "count": None, "big": 7, "flag": None},
        {"name": "x", "count": None, "big": None, "flag": True},
    ]
    assert _round_trip(pg, rows) == rows


def test_no_rows_unnest_to_no_rows(pg: Connection) -> None:
    """Empty arrays are a table of no rows, not an error."""
    assert _round_trip(pg, []) == []
