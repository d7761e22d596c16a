"""Account-level records: cancelled SMS, the SMS whose cost is asked, and kept account state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage.delivery import AppliedUpdate, StatusUpdate, apply_status
from storage.schema import utc_text, write_transaction
from storage.status import DeliveryStatus

if TYPE_CHECKING:
    from sqlite_utils import Database

#: ``account_state`` key of the low-balance alert: ``"low"`` while raised, ``"ok"`` otherwise.
LOW_BALANCE_KEY = "low_balance"


def record_cancelled(
    db: Database, message_id: int, user_id: str, *, now: datetime | None = None
) -> AppliedUpdate | None:
    """Record that ``user_id`` cancelled SMS ``message_id``: tracking stops, the post is edited.

    The SMS becomes DELETED through :func:`~storage.delivery.apply_status`, so its post is
    edited and its thread answered through the outbox, like any final status (restart-safe).
    """
    moment = now or datetime.now(UTC)
    with write_transaction(db):
        db.execute("UPDATE sms SET cancelled_by = ? WHERE message_id = ?", [user_id, message_id])
        return apply_status(
            db,
            StatusUpdate(message_id, DeliveryStatus.DELETED, None, source="command"),
            now=moment,
        )


def sent_campaigns_since(db: Database, since: datetime) -> dict[int, int]:
    """The SMS smsbot sent from ``since`` on: message id → campaign id."""
    rows = db.query(
        "SELECT message_id, campaign_id FROM sms WHERE state = 'sent' AND sent_at >= ? "
        "AND message_id IS NOT NULL AND campaign_id IS NOT NULL",
        [utc_text(since)],
    )
    return {int(r["message_id"]): int(r["campaign_id"]) for r in rows}


def get_state(db: Database, key: str) -> str | None:
    """The kept value of ``key``, or ``None``."""
    rows = list(db.query("SELECT value FROM account_state WHERE key = ?", [key]))
    return str(rows[0]["value"]) if rows else None


def set_state(db: Database, key: str, value: str, *, now: datetime | None = None) -> None:
    """Keep ``value`` for ``key`` across restarts."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO account_state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            [key, value, utc_text(now)],
        )
