"""The tests' quick way to record many sends leaves the rows the bot's own writes leave."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from storage.claims import claim_send, record_sent
from storage.outbox import finish_notification, refuse_post
from testkit.claims import new_send
from testkit.database import run_sql
from testkit.sent import record_sent_many
from tests.storage.conftest import T0

if TYPE_CHECKING:
    from storage.engine import Database

#: What differs between two SMS sent alike: their keys, ids and Mobizon's ids.
_OWN = ("id", "trigger_id", "message_id", "campaign_id")


def _rows(db: Database, message_ids: list[int]) -> list[dict[str, Any]]:
    """Each SMS's row, then its history rows, without what is its own (in the order given)."""
    found = []
    for message_id in message_ids:
        (row,) = run_sql(db, "SELECT * FROM sms WHERE message_id = :m", m=message_id)
        assert row["campaign_id"] == message_id + 1_000_000
        history = run_sql(
            db,
            "SELECT status, status_ts, source, recorded_at FROM status_history"
            " WHERE message_id = :m ORDER BY id",
            m=message_id,
        )
        found.append(
            {
                "sms": {key: value for key, value in row.items() if key not in _OWN},
                "history": [dict(entry) for entry in history],
            }
        )
    return found


def _sent_one_by_one(db: Database, sends: list[dict[str, Any]], message_ids: list[int]) -> None:
    """Each send claimed, recorded as sent and its channel post refused, as the bot does."""
    for n, (fields, message_id) in enumerate(zip(sends, message_ids, strict=True)):
        claimed = claim_send(db, new_send(f"alone-{n}", **fields), now=T0)
        assert claimed is not None
        record_sent(
            db,
            claimed.id,
            message_id=message_id,
            campaign_id=message_id + 1_000_000,
            campaign_status=2,
            now=T0,
        )
        (post,) = run_sql(db, "SELECT id FROM outbox WHERE message_id = :m", m=message_id)
        refuse_post(db, claimed.id, error="not_in_channel", now=T0)
        finish_notification(db, post["id"])


def test_many_sends_recorded_at_once_are_rows_as_one_by_one(db: Database) -> None:
    """Sends recorded by record_sent_many are stored as claim, record_sent and a refused post leave them."""
    sends: list[dict[str, Any]] = [
        {"text": "hello"},
        {"text": "hello", "sandbox": True},
        {"text": "later", "deferred_to": "2026-11-30 18:00:00", "validity": 60},
        {"text": "other", "channel_id": "C2", "user_id": "U2"},
    ]
    _sent_one_by_one(db, sends, [101, 102, 103, 104])
    ids = record_sent_many(
        db,
        [new_send(f"many-{n}", **fields) for n, fields in enumerate(sends)],
        [201, 202, 203, 204],
        now=T0,
    )

    assert len(ids) == 4
    assert _rows(db, [201, 202, 203, 204]) == _rows(db, [101, 102, 103, 104])
    assert _rows(db, [201])[0]["sms"]["state"] == "sent"
    assert run_sql(db, "SELECT count(*) AS n FROM outbox")[0]["n"] == 0


def test_many_sends_refuse_a_key_claimed_before_and_write_nothing(db: Database) -> None:
    """A trigger_id claimed before fails the whole batch: none of its rows is kept."""
    assert claim_send(db, new_send("taken"), now=T0) is not None
    with pytest.raises(ValueError, match="claimed before"):
        record_sent_many(db, [new_send("fresh"), new_send("taken")], [301, 302], now=T0)
    assert [row["trigger_id"] for row in run_sql(db, "SELECT trigger_id FROM sms")] == ["taken"]
