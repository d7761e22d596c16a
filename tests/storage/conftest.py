"""Fixtures for storage tests: fresh databases and a quick way to make SMS in a given state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from storage.claims import NewSend, claim_send, record_sent
from storage.records import SmsRecord
from storage.schema import open_database

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlite_utils import Database

#: The fixed "now" rows are created at unless a test says otherwise (tests repeat it as T0).
T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def db() -> Iterator[Database]:
    """A fresh, migrated in-memory database."""
    database = open_database(":memory:")
    yield database
    database.close()


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
