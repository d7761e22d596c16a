"""One process per database: the second one is refused until the first lets go."""

from __future__ import annotations

import pytest

from storage.engine import parse_database_url
from storage.owner import DatabaseInUseError, own_database


def test_a_second_owner_is_refused_until_the_first_lets_go(database_url: str, engine: str) -> None:
    """Owning a database twice is refused with a sentence; after release it can be owned again."""
    url = parse_database_url(database_url)
    first = own_database(url)
    assert first is not None
    with pytest.raises(DatabaseInUseError) as refused:
        own_database(url)
    assert "another smsbot process is running on the" in str(refused.value)
    if engine == "sqlite":
        assert "SMSBOT_DATABASE_URL" in str(refused.value)
    first.release()
    again = own_database(url)
    assert again is not None
    again.release()


def test_an_in_memory_database_has_no_owner() -> None:
    """A private in-memory database is nobody else's: nothing to lock."""
    assert own_database(parse_database_url(":memory:")) is None
