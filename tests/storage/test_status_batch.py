"""A batch of status changes writes what the same changes write one at a time, on each engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from storage.delivery import StatusUpdate, UpdateSource, apply_status, apply_statuses
from storage.outbox import NotificationKind
from storage.outbox_queue import queue_notification, queue_statuses
from storage.status_writes import write_changes
from testkit.database import run_sql

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database
    from storage.records import SmsRecord

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
T1, T2, T3 = "2026-01-15 11:00:00", "2026-01-15 11:00:05", "2026-01-15 11:00:09"

#: The SMS written one at a time have message ids 1 to 5; those written as a batch, 101 to 105.
BATCH = 100


def _updates(offset: int) -> list[StatusUpdate]:
    """Every case of the status rule, an SMS changed twice and more, for message ids + offset."""

    def update(
        message_id: int, status: str, ts: str | None, source: UpdateSource = "poll", **more: Any
    ) -> StatusUpdate:
        return StatusUpdate(message_id + offset, status, ts, source=source, **more)

    return [
        update(1, "ENQUEUD", T1, segments=2, start_send_ts=T1),
        update(1, "ACCEPTD", T2),  # the same SMS again, further: its segments stay 2
        update(1, "ENQUEUD", T3),  # backwards: ignored
        update(2, "DELIVRD", T2),
        update(2, "UNDELIV", T3),  # a final status is never replaced
        update(3, "ACCEPTD", None, "webhook"),
        update(4, "PDLIVRD", T1),
        update(4, "DELIVRD", None, segments=3),  # final after a change of the same batch
        update(3, "DELIVRD", T3),
        update(99, "DELIVRD", T1),  # not the bot's SMS
        update(5, "ACCEPTD", T1),  # sent in the other mode
    ]


#: The rows each way of writing leaves, SMS between message ids ``low`` and ``high``.
_WRITTEN = tuple(
    f"SELECT {columns} WHERE message_id BETWEEN :low AND :high ORDER BY {order}"
    for columns, order in (
        (
            "message_id, status, status_ts, segments, start_send_ts, updated_at, final_at FROM sms",
            "message_id",
        ),
        ("message_id, status, status_ts, source, recorded_at FROM status_history", "id"),
        (
            (
                "message_id, status, kind, note, created_at, attempts, next_attempt_at,"
                " update_done, reply_done, last_error FROM outbox"
            ),
            "id",
        ),
    )
)


def _rows(db: Database, sql: str, offset: int) -> list[tuple[object, ...]]:
    """The rows of ``sql`` for one group of SMS, each message id counted in its group (1 to 5)."""
    rows = run_sql(db, sql, low=offset, high=offset + BATCH - 1)
    return [(int(row["message_id"]) - offset, *list(row.values())[1:]) for row in rows]


def test_a_batch_leaves_the_rows_one_change_at_a_time_leaves(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """apply_statuses writes the same SMS, history and outbox rows as apply_status in turn."""
    for offset in (0, BATCH):
        for n in range(1, 5):
            make_sms(db, message_id=n + offset)
        make_sms(db, message_id=5 + offset, sandbox=True)
    applied = [apply_status(db, u, now=NOW, sandbox=False) for u in _updates(0)]
    changed = apply_statuses(db, _updates(BATCH), now=NOW, sandbox=False)
    one_by_one = [u.message_id + BATCH for u, a in zip(_updates(0), applied, strict=True) if a]
    assert changed == one_by_one == [101, 101, 102, 103, 104, 104, 103]
    for sql in _WRITTEN:
        assert _rows(db, sql, BATCH) == _rows(db, sql, 0)
    final = run_sql(db, "SELECT segments, final_at FROM sms WHERE message_id = 104")
    assert [(row["segments"], row["final_at"]) for row in final] == [
        (3, "2026-01-15T12:00:00+00:00")
    ]


def test_a_batch_of_changes_is_written_at_one_moment(db: Database) -> None:
    """Changes stamped with two moments are refused before anything is written."""
    change = {
        "sms_id": 1,
        "new_status": "ACCEPTD",
        "new_status_ts": None,
        "new_segments": None,
        "new_start_send_ts": None,
        "final": False,
    }
    history = {"message_id": 1, "status": "ACCEPTD", "status_ts": None, "source": "poll"}
    changes = [change | {"stamp": "2026-01-15T12:00:00+00:00"}, change | {"stamp": "other"}]
    with pytest.raises(ValueError, match="one moment"):
        write_changes(db, changes, [history, history])
    assert run_sql(db, "SELECT count(*) AS n FROM status_history")[0]["n"] == 0


def test_status_rows_queued_together_are_those_queued_one_by_one(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """queue_statuses writes, in order, the rows queue_notification writes; waiting ones skipped."""
    for message_id in (1, 2, 3, 101, 102, 103):
        make_sms(db, message_id=message_id)
    rows = [(1, "ACCEPTD", False), (2, "DELIVRD", True), (3, "UNDELIV", True)]
    for offset in (0, BATCH):  # an earlier moment's rows for SMS 1 already wait, on each side
        queue_notification(db, 1 + offset, NotificationKind.STATUS, NOW, status="ACCEPTD")
    for message_id, status, reply_owed in rows:
        queue_notification(
            db, message_id, NotificationKind.STATUS, NOW, status=status, reply_owed=reply_owed
        )
    queue_statuses(db, [(m + BATCH, status, owed) for m, status, owed in rows], NOW)
    assert _rows(db, _WRITTEN[2], BATCH) == _rows(db, _WRITTEN[2], 0)
    assert [row[:2] for row in _rows(db, _WRITTEN[2], BATCH) if row[2] == "status"] == [
        (1, "ACCEPTD"),
        (2, "DELIVRD"),
        (3, "UNDELIV"),
    ]
