"""The outbox: the Slack notifications a status change owes, kept until Slack took them.

:mod:`storage.delivery` queues a row with the change it reports (:func:`queue_notification`,
in the change's transaction); the notifier reads :func:`due_notifications`, marks each step
done as Slack accepts it, and deletes the row with :func:`finish_notification`. A crash in
between re-sends, never loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from storage.messages import get_by_message_ids
from storage.records import MAX_ERROR_LENGTH, SmsRecord
from storage.schema import utc_ms_text

if TYPE_CHECKING:
    from sqlite_utils import Database


class NotificationKind(StrEnum):
    """What an outbox row tells Slack about."""

    STATUS = "status"  # Mobizon reported a new status
    GIVEUP = "giveup"  # no final status came within the validity period


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox row to deliver to Slack: update the SMS's message, then reply in its thread.

    ``reply_done`` starts true for non-final statuses: a thread reply is owed only for final
    statuses and give-ups.
    """

    id: int
    message_id: int
    status: str
    kind: NotificationKind
    attempts: int
    update_done: bool
    reply_done: bool
    last_error: str | None
    sms: SmsRecord
    created_at: datetime


def queue_notification(
    db: Database,
    message_id: int,
    status: str,
    kind: NotificationKind,
    moment: datetime,
    *,
    reply_owed: bool,
) -> int | None:
    """Queue a notification due at once; its id, or ``None`` when one for (SMS, status) waits."""
    queued = utc_ms_text(moment)  # due at once; retries put it off to the millisecond
    cursor = db.execute(
        """
        INSERT INTO outbox (
            message_id, status, kind, created_at, attempts, next_attempt_at, update_done,
            reply_done
        )
        VALUES (?, ?, ?, ?, 0, ?, 0, ?)
        ON CONFLICT (message_id, status) DO NOTHING
        """,
        [message_id, status, kind.value, queued, queued, int(not reply_owed)],
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def due_notifications(
    db: Database, *, now: datetime | None = None, limit: int = 100, channel: str | None = None
) -> list[Notification]:
    """Outbox rows whose next attempt is due, oldest first, each with its SMS as it is now.

    With ``channel``, only the rows of that notification channel: the channel the SMS's message
    is in, or, for an SMS without one, its sender's user id (as :func:`due_channels` names them).
    """
    if channel is None:
        rows = list(
            db.query(
                "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT ?",
                [utc_ms_text(now), limit],
            )
        )
    else:
        rows = list(
            db.query(
                """
                SELECT o.* FROM outbox AS o JOIN sms AS s ON s.message_id = o.message_id
                WHERE o.next_attempt_at <= ?
                    AND coalesce(nullif(s.slack_channel, ''), s.user_id) = ?
                ORDER BY o.id LIMIT ?
                """,
                [utc_ms_text(now), channel, limit],
            )
        )
    sms_by_message = get_by_message_ids(db, (row["message_id"] for row in rows))
    return [_notification(row, sms_by_message[row["message_id"]]) for row in rows]


def due_channels(db: Database, *, now: datetime | None = None) -> list[str]:
    """Every notification channel with a due outbox row, the one with the oldest row first.

    A notification channel is the channel the SMS's message is in, or its sender's user id for
    an SMS never posted in a channel: the notifier paces and orders by it.
    """
    rows = db.execute(
        """
        SELECT coalesce(nullif(s.slack_channel, ''), s.user_id) AS channel
        FROM outbox AS o JOIN sms AS s ON s.message_id = o.message_id
        WHERE o.next_attempt_at <= ?
        GROUP BY channel
        ORDER BY min(o.id)
        """,
        [utc_ms_text(now)],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _notification(row: dict[str, Any], sms: SmsRecord) -> Notification:
    return Notification(
        id=row["id"],
        message_id=row["message_id"],
        status=row["status"],
        kind=NotificationKind(row["kind"]),
        attempts=row["attempts"],
        update_done=bool(row["update_done"]),
        reply_done=bool(row["reply_done"]),
        last_error=row["last_error"],
        sms=sms,
        created_at=datetime.fromisoformat(row["created_at"]),
    )


_STEP_DONE_SQL = {
    "update": "UPDATE outbox SET update_done = 1 WHERE id = ?",
    "reply": "UPDATE outbox SET reply_done = 1 WHERE id = ?",
}


def mark_step_done(db: Database, notification_id: int, step: Literal["update", "reply"]) -> None:
    """Record that Slack accepted one step, so a retry does not repeat it."""
    sql = _STEP_DONE_SQL.get(step)
    if sql is None:
        raise ValueError(f"unknown notification step {step!r}")
    db.execute(sql, [notification_id])


def finish_notification(db: Database, notification_id: int) -> None:
    """Remove a notification once Slack accepted every step of it."""
    db.execute("DELETE FROM outbox WHERE id = ?", [notification_id])


def retry_notification(
    db: Database,
    notification_id: int,
    *,
    delay: float,
    error: str,
    now: datetime | None = None,
) -> None:
    """Put a notification off for ``delay`` seconds after a failed attempt, noting why.

    ``error`` must already be free of secrets; it is cut to a bounded length.
    """
    db.execute(
        """
        UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
        WHERE id = ?
        """,
        [_not_before(delay, now), error[:MAX_ERROR_LENGTH], notification_id],
    )


def postpone_notification(
    db: Database, notification_id: int, *, delay: float, now: datetime | None = None
) -> None:
    """Put a notification off for ``delay`` seconds without counting a failed attempt."""
    db.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
        [_not_before(delay, now), notification_id],
    )


def _not_before(delay: float, now: datetime | None) -> str:
    """``now + delay`` as stored text, rounded up to the millisecond: never due before asked."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=max(0.0, delay))
    if moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return utc_ms_text(moment)


def outbox_size(db: Database) -> int:
    """How many notifications wait for Slack (due or not)."""
    return int(next(db.query("SELECT count(*) AS n FROM outbox"))["n"])
