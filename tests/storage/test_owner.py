"""One process per SQLite file: the second one is refused until the first lets go.

PostgreSQL holds no such lock: any number of replicas run on one database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.engine import parse_database_url
from storage.owner import DatabaseInUseError, lock_path, own_database


def test_a_second_owner_of_a_sqlite_file_is_refused_until_the_first_lets_go(
    tmp_path: Path,
) -> None:
    """SQLite: owning a file twice is refused with a sentence; after release it can be owned again."""
    url = parse_database_url(str(tmp_path / "smsbot.db"))
    first = own_database(url)
    assert first is not None
    assert first.path == lock_path(url)
    with pytest.raises(DatabaseInUseError) as refused:
        own_database(url)
    assert "another smsbot process is running on the SQLite database" in str(refused.value)
    assert "SMSBOT_DATABASE_URL" in str(refused.value)
    assert "PostgreSQL" in str(refused.value)
    first.release()
    again = own_database(url)
    assert again is not None
    again.release()


def test_any_number_of_processes_run_on_one_postgresql_database(postgres_url: str) -> None:
    """PostgreSQL: nothing is owned, so a second (and third) process is never refused."""
    url = parse_database_url(postgres_url)
    assert [own_database(url) for _ in range(3)] == [None, None, None]


def test_an_in_memory_database_has_no_owner() -> None:
    """A private in-memory database is nobody else's: nothing to lock."""
    assert own_database(parse_database_url(":memory:")) is None
