"""Fixtures for storage tests: fresh databases and a quick way to make SMS in a given state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from storage.claims import NewSend, claim_send, record_sent
from storage.engine import make_engine, parse_database_url
from storage.records import SmsRecord
from storage.schema import open_database
from tests import postgres

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from storage.engine import Database

#: The fixed "now" rows are created at unless a test says otherwise (tests repeat it as T0).
T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


#: The engines every storage test runs on.
ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine the test runs on: each storage test runs once on each."""
    return str(request.param)


@pytest.fixture
def db(engine: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh, migrated, empty database: in memory on SQLite, this worker's own on PostgreSQL."""
    if engine == "sqlite":
        database = open_database(":memory:")
    else:
        url = request.getfixturevalue("postgres_url")
        postgres.empty_tables(url)
        # migrated once for the worker: a plain connection, as open_database gives after migrating
        database = postgres.kept_engine(url).connect()
    yield database
    database.close()
    if engine == "sqlite":
        database.engine.dispose()


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database that does not exist yet (SQLite) or has no schema (PostgreSQL)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Database]:
    """A connection to a database with no schema at all."""
    engine = make_engine(parse_database_url(database_url), keep=False)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """Path of a database file that does not exist yet."""
    return str(tmp_path / "smsbot.db")


@pytest.fixture
def make_sms() -> Callable[..., SmsRecord]:
    """Make one SMS row: ``make_sms(db, message_id=7, **claim_fields)``.

    With a ``message_id`` the SMS is also recorded as sent (state ``sent``, status NEW).
    """
    counter = itertools.count(1)

    def make(db: Database, *, message_id: int | None = None, **fields: Any) -> SmsRecord:
        n = next(counter)
        values: dict[str, Any] = {
            "trigger_id": f"trigger-{n}",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "response_url": "https://hooks.slack.invalid/commands/1",
            "recipient": "5511987654321",
            "text": f"hello {n}",
            "sender": None,
            "segments": 1,
            "encoding": "gsm7",
            "name": None,
            "deferred_to": None,
            "validity": None,
            "flash": False,
            "now": T0,
        }
        values.update(fields)
        sms = claim_send(
            db, NewSend(**{k: v for k, v in values.items() if k != "now"}), now=values["now"]
        )
        assert sms is not None
        if message_id is None:
            return sms
        return record_sent(
            db,
            sms.id,
            message_id=message_id,
            campaign_id=message_id + 1_000_000,
            campaign_status=2,
            now=values["now"],
        )

    return make
