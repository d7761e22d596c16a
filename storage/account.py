"""Account-level records: cancelled SMS, the SMS whose cost is asked, and kept account state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from storage import delivery
from storage.delivery import AppliedUpdate, StatusUpdate, apply_status
from storage.outbox import NotificationKind, queue_notification
from storage.schema import utc_ms_text, utc_text, write_transaction
from storage.status import DeliveryStatus

if TYPE_CHECKING:
    from sqlite_utils import Database

#: Outbox/history key of "Mobizon's moderators declined the SMS" (not a Mobizon status).
DECLINED = "DECLINED"

#: Outbox key of "the SMS's cost is known": edits the post, no thread reply.
COST = "COST"
#: Lookups of an SMS's cost before giving up on it (Mobizon states none).
MAX_COST_ASKS = 3

#: How long a cancel's claim holds: longer than any Mobizon call, so only the claim of a process
#: that died while cancelling is ever taken over.
CANCEL_CLAIM_LIFETIME = timedelta(minutes=2)

#: ``account_state`` key of the low-balance alert: ``"low"`` while raised, ``"ok"`` otherwise.
LOW_BALANCE_KEY = "low_balance"


def claim_cancel(
    db: Database, message_id: int, user_id: str, *, now: datetime | None = None
) -> bool:
    """Let ``user_id`` alone ask Mobizon to cancel SMS ``message_id``; False when not granted.

    Not granted while another cancel holds a live claim, or once the SMS is cancelled or final:
    the caller reads the SMS again to say who cancelled it, or is cancelling it.
    """
    moment = now or datetime.now(UTC)
    with write_transaction(db):
        claimed = db.execute(
            "UPDATE sms SET cancelling_by = ?, cancelling_at = ? "
            "WHERE message_id = ? AND cancelled_by IS NULL AND final_at IS NULL "
            "AND (cancelling_by IS NULL OR cancelling_at < ?)",
            [user_id, utc_ms_text(moment), message_id, utc_ms_text(moment - CANCEL_CLAIM_LIFETIME)],
        ).rowcount
    return bool(claimed)


def release_cancel(db: Database, message_id: int, user_id: str) -> None:
    """Give up ``user_id``'s claim on cancelling ``message_id`` (Mobizon did not cancel it)."""
    with write_transaction(db):
        db.execute(
            "UPDATE sms SET cancelling_by = NULL, cancelling_at = NULL "
            "WHERE message_id = ? AND cancelling_by = ?",
            [message_id, user_id],
        )


def record_cancelled(
    db: Database, message_id: int, user_id: str, *, now: datetime | None = None
) -> AppliedUpdate | None:
    """Record that ``user_id`` cancelled SMS ``message_id``: tracking stops, the post is edited.

    The SMS becomes DELETED through :func:`~storage.delivery.apply_status`, so its post is
    edited and its thread answered through the outbox, like any final status (restart-safe).
    The cancel's claim ends with it.
    """
    moment = now or datetime.now(UTC)
    with write_transaction(db):
        db.execute(
            "UPDATE sms SET cancelled_by = ?, cancelling_by = NULL, cancelling_at = NULL "
            "WHERE message_id = ?",
            [user_id, message_id],
        )
        return apply_status(
            db,
            StatusUpdate(message_id, DeliveryStatus.DELETED, None, source="command"),
            now=moment,
        )


def sent_campaigns_since(db: Database, since: datetime) -> dict[int, int]:
    """The SMS smsbot sent from ``since`` on, not cancelled nor declined: message → campaign."""
    rows = db.query(
        "SELECT message_id, campaign_id FROM sms WHERE state = 'sent' AND sent_at >= ? "
        "AND message_id IS NOT NULL AND campaign_id IS NOT NULL "
        # cancelled and declined SMS were never sent, and Mobizon gave their cost back
        "AND cancelled_by IS NULL AND moderation IS NOT 'declined'",
        [utc_text(since)],
    )
    return {int(r["message_id"]): int(r["campaign_id"]) for r in rows}


def known_costs(db: Database, message_ids: list[int]) -> dict[int, Decimal]:
    """The costs already kept for ``message_ids`` (those with one)."""
    rows = db.query(
        "SELECT message_id, cost FROM sms WHERE cost IS NOT NULL "
        "AND message_id IN (SELECT value FROM json_each(?))",
        [json.dumps(message_ids)],
    )
    return {int(r["message_id"]): Decimal(r["cost"]) for r in rows}


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


def awaiting_moderation(db: Database, *, sandbox: bool | None = None) -> dict[int, list[int]]:
    """Tracked SMS sent awaiting moderation with no decision yet: campaign id → message ids."""
    rows = db.query(
        """
        SELECT campaign_id, message_id FROM sms
        WHERE state = 'sent' AND campaign_status = 1 AND moderation IS NULL
          AND final_at IS NULL AND gave_up_at IS NULL
          AND message_id IS NOT NULL AND campaign_id IS NOT NULL
          AND (? IS NULL OR sandbox = ?)
        ORDER BY id
        """,
        [sandbox, sandbox],
    )
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(int(row["campaign_id"]), []).append(int(row["message_id"]))
    return found


def record_approved(db: Database, campaign_id: int, *, now: datetime | None = None) -> None:
    """Mobizon's moderators approved ``campaign_id``: its SMS are tracked as usual."""
    with write_transaction(db):
        db.execute(
            "UPDATE sms SET moderation = 'approved', updated_at = ? "
            "WHERE campaign_id = ? AND moderation IS NULL",
            [utc_text(now), campaign_id],
        )


def record_declined(
    db: Database, campaign_id: int, comment: str | None, *, now: datetime | None = None
) -> list[int]:
    """Mobizon's moderators declined ``campaign_id``: stop tracking, queue the channel's news.

    Each of its SMS gets one outbox row (edit the post, one thread reply), written in the same
    transaction, so a restart loses nothing. Returns the message ids newly declined.
    """
    moment = now or datetime.now(UTC)
    declined: list[int] = []
    with write_transaction(db):
        rows = list(
            db.query(
                "SELECT id, message_id FROM sms WHERE campaign_id = ? AND moderation IS NULL "
                "AND state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL "
                "AND message_id IS NOT NULL",
                [campaign_id],
            )
        )
        for row in rows:
            db.execute(
                "UPDATE sms SET moderation = 'declined', moderation_comment = ? WHERE id = ?",
                [comment, row["id"]],
            )
            # tracking stops the way it does for an overdue SMS, under the decline's own name
            if delivery.give_up(db, int(row["id"]), now=moment, status=DECLINED) is not None:
                declined.append(int(row["message_id"]))
    return declined


def costs_wanted(db: Database, *, limit: int = 100, sandbox: bool | None = None) -> dict[int, int]:
    """Final SMS whose cost is not known yet (and still worth asking): message → campaign id."""
    rows = db.query(
        """
        SELECT message_id, campaign_id FROM sms
        WHERE state = 'sent' AND cost IS NULL AND final_at IS NOT NULL AND cost_asks < ?
          AND cancelled_by IS NULL
          AND message_id IS NOT NULL AND campaign_id IS NOT NULL
          AND (? IS NULL OR sandbox = ?)
        ORDER BY id LIMIT ?
        """,
        [MAX_COST_ASKS, sandbox, sandbox, limit],
    )
    return {int(r["message_id"]): int(r["campaign_id"]) for r in rows}


def record_costs(
    db: Database,
    asked: list[int],
    costs: dict[int, Decimal],
    currency: str | None,
    *,
    now: datetime | None = None,
) -> int:
    """Keep the costs Mobizon stated for ``asked`` SMS and queue their posts' edits.

    Every asked SMS counts one lookup; those with a cost get an outbox row that edits their
    post (no thread reply). Returns how many costs were recorded.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    recorded = 0
    with write_transaction(db):
        for message_id in asked:
            cost = costs.get(message_id)
            if cost is None:
                db.execute(
                    "UPDATE sms SET cost_asks = cost_asks + 1 WHERE message_id = ?", [message_id]
                )
                continue
            changed = db.execute(
                "UPDATE sms SET cost = ?, currency = ?, cost_asks = cost_asks + 1, "
                "updated_at = ? WHERE message_id = ? AND cost IS NULL",
                [str(cost), currency, stamp, message_id],
            ).rowcount
            if not changed:  # already known (another lookup was first): nothing to edit
                continue
            queue_notification(
                db, message_id, COST, NotificationKind.STATUS, moment, reply_owed=False
            )
            recorded += 1
    return recorded
