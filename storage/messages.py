"""Finding the SMS sent from Slack again: by id, by channel, by what is still open.

The rows are :class:`~storage.records.SmsRecord`; writing the send is :mod:`storage.claims`,
writing a status :mod:`storage.delivery`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from storage.records import SendState, SmsRecord, sms_from_row
from storage.schema import utc_text, wall_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlite_utils import Database

__all__ = [
    "DEFAULT_VALIDITY_MINUTES",
    "PendingStatus",
    "SmsRecord",  # imported from here by the Slack rendering
    "count_by_state",
    "count_pending",
    "get_by_message_id",
    "get_by_message_ids",
    "get_by_slack_post",
    "get_sms",
    "highest_ids",
    "last_message_id_before",
    "latest_in_channel",
    "overdue",
    "pending_sandbox",
    "pending_statuses",
    "unsettled_like",
    "unsettled_sends",
]

#: Minutes Mobizon keeps trying to deliver when no validity was asked for.
DEFAULT_VALIDITY_MINUTES = 1440


def _one(db: Database, sql: str, params: list[Any]) -> SmsRecord | None:
    row = next(db.query(sql, params), None)
    return None if row is None else sms_from_row(row)


def get_sms(db: Database, sms_id: int) -> SmsRecord | None:
    """Return the SMS with local id ``sms_id``, or ``None``."""
    return _one(db, "SELECT * FROM sms WHERE id = ?", [sms_id])


def get_by_message_id(db: Database, message_id: int) -> SmsRecord | None:
    """Return the SMS Mobizon knows as ``message_id``; ``None`` when the bot did not send it."""
    return _one(db, "SELECT * FROM sms WHERE message_id = ?", [message_id])


def get_by_message_ids(db: Database, ids: Iterable[int]) -> dict[int, SmsRecord]:
    """Return the SMS among Mobizon ``ids`` that the bot sent, keyed by message id."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    # One JSON parameter instead of one per id: no limit on how many ids are asked at once.
    rows = db.query(
        "SELECT * FROM sms WHERE message_id IN (SELECT value FROM json_each(?))",
        [json.dumps(wanted)],
    )
    records = (sms_from_row(row) for row in rows)
    return {sms.message_id: sms for sms in records if sms.message_id is not None}


def get_by_slack_post(db: Database, channel: str, ts: str) -> SmsRecord | None:
    """Return the SMS whose channel post is ``ts`` in ``channel``, or ``None``."""
    return _one(db, "SELECT * FROM sms WHERE slack_channel = ? AND slack_ts = ?", [channel, ts])


def latest_in_channel(
    db: Database, *, team_id: str, channel_id: str, limit: int = 10
) -> list[SmsRecord]:
    """Return the SMS last sent from one Slack channel, newest first (``/sms status``)."""
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE team_id = ? AND channel_id = ? AND state = 'sent'
        ORDER BY id DESC
        LIMIT ?
        """,
        [team_id, channel_id, limit],
    )
    return [sms_from_row(row) for row in rows]


def unsettled_sends(
    db: Database,
    *,
    claimed_before: datetime,
    unknown_since: datetime,
    claimed_up_to: int | None = None,
) -> list[SmsRecord]:
    """Sends whose outcome Mobizon never told us, oldest first: candidates for a lookup.

    ``claimed`` rows of a process that is gone (it died between the claim and Mobizon's
    answer): created before ``claimed_before``, or with a row id up to ``claimed_up_to`` (the
    last row when this process started, which also catches a claim stored in the very second the
    process started); and ``unknown`` rows (a timeout, a 5xx) created since ``unknown_since``.
    Rows marked by :func:`mark_checked` are left out.
    """
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE state IN ('claimed', 'unknown') AND message_id IS NULL AND checked_at IS NULL
          AND ((state = 'claimed' AND (created_at < ? OR id <= ?))
               OR (state = 'unknown' AND created_at >= ?))
        ORDER BY created_at, id
        """,
        [
            utc_text(claimed_before),
            -1 if claimed_up_to is None else claimed_up_to,
            utc_text(unknown_since),
        ],
    )
    return [sms_from_row(row) for row in rows]


def last_sms_id(db: Database) -> int | None:
    """The id of the newest row of the ``sms`` table (``None`` when empty)."""
    row = next(db.query("SELECT MAX(id) AS last FROM sms"), None)
    return None if row is None or row["last"] is None else int(row["last"])


def unsettled_like(db: Database, sms: SmsRecord) -> list[SmsRecord]:
    """Other sends of the same text to the same number whose outcome is not recorded either."""
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE recipient = ? AND text = ? AND id != ?
          AND state IN ('claimed', 'unknown') AND message_id IS NULL AND checked_at IS NULL
        ORDER BY id
        """,
        [sms.recipient, sms.text, sms.id],
    )
    return [sms_from_row(row) for row in rows]


def last_message_id_before(db: Database, moment: datetime) -> int | None:
    """The highest Mobizon message id the bot recorded as sent before ``moment``.

    Mobizon numbers messages in order, so a message created after ``moment`` has a higher id:
    a lower bound when looking an SMS up after the fact.
    """
    row = db.execute(
        "SELECT max(message_id) FROM sms WHERE sent_at < ?", [utc_text(moment)]
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def highest_ids(db: Database) -> tuple[int | None, int | None]:
    """The highest Mobizon message id and campaign id recorded, whatever the mode (``None``: none).

    A sandbox simulator starts its ids above them, so a new run never reuses an earlier one's.
    """
    row = db.execute("SELECT max(message_id), max(campaign_id) FROM sms").fetchone()
    if row is None:
        return None, None
    return (
        None if row[0] is None else int(row[0]),
        None if row[1] is None else int(row[1]),
    )


def pending_sandbox(db: Database) -> list[SmsRecord]:
    """SMS sent to a sandbox simulator and still awaiting a final status, oldest first."""
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL AND sandbox = 1
          AND message_id IS NOT NULL
        ORDER BY id
        """
    )
    return [sms_from_row(row) for row in rows]


class PendingStatus(NamedTuple):
    """What the poller needs of a pending SMS: its Mobizon id and the status last recorded."""

    message_id: int
    status: str | None
    status_ts: str | None


def pending_statuses(
    db: Database, *, local_now: datetime | None = None, sandbox: bool | None = None
) -> list[PendingStatus]:
    """Sent SMS whose delivery is still open and due to be asked about, oldest first.

    Leaves out final, given-up and never-sent SMS, and deferred ones whose time has not come.
    ``deferred_to`` is a wall time as the user wrote it, in the Mobizon account's zone, so it is
    compared with ``local_now``'s wall time: now in that zone (default: this machine's local
    time). With ``sandbox`` set, only the SMS sent in that mode: a simulator's ids mean nothing
    to Mobizon, and Mobizon's nothing to a simulator. The poller runs this every cycle over every
    pending SMS, so it returns only what a cycle compares, not full records (bench/polling.py).
    """
    rows = db.execute(
        """
        SELECT message_id, status, status_ts FROM sms
        WHERE state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL
          AND (deferred_to IS NULL OR deferred_to <= ?)
          AND (? IS NULL OR sandbox = ?)
        ORDER BY id
        """,
        [_local_wall_text(local_now), sandbox, sandbox],
    ).fetchall()
    return [PendingStatus(*row) for row in rows]


def overdue(
    db: Database,
    *,
    now: datetime,
    grace: timedelta,
    local_now: datetime | None = None,
) -> list[SmsRecord]:
    """Pending SMS that should have reached a final status by now: candidates for giving up.

    The deadline is the send time (``deferred_to``, else ``sent_at``) plus the validity (default
    1440 minutes) plus ``grace``. Deferred SMS are judged by ``local_now``'s wall time, now in the
    Mobizon account's zone (default: ``now`` in this machine's local zone), others by ``now``.
    """
    wall_now = _local_wall_text(local_now if local_now is not None else now.astimezone())
    # Validity is per row, so the date modifier ('+N seconds') is built in SQL from its column.
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL
          AND CASE
              WHEN deferred_to IS NULL THEN datetime(
                  sent_at,
                  '+' || (coalesce(validity, :default_validity) * 60 + :grace_seconds) || ' seconds'
              ) < datetime(:now)
              ELSE datetime(
                  deferred_to,
                  '+' || (coalesce(validity, :default_validity) * 60 + :grace_seconds) || ' seconds'
              ) < :wall_now
          END
        ORDER BY id
        """,
        {
            "default_validity": DEFAULT_VALIDITY_MINUTES,
            "grace_seconds": int(grace.total_seconds()),
            "now": utc_text(now),
            "wall_now": wall_now,
        },
    )
    return [sms_from_row(row) for row in rows]


def count_by_state(db: Database) -> dict[str, int]:
    """How many SMS are in each :class:`SendState` (every state present, zero when none)."""
    counts = {state.value: 0 for state in SendState}
    for row in db.query("SELECT state, count(*) AS n FROM sms GROUP BY state"):
        counts[row["state"]] = row["n"]
    return counts


def count_pending(db: Database) -> int:
    """How many sent SMS still await a final status (deferred ones included)."""
    row = next(
        db.query(
            """
            SELECT count(*) AS n FROM sms
            WHERE state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL
            """
        )
    )
    return int(row["n"])


def _local_wall_text(local_now: datetime | None) -> str:
    moment = datetime.now(UTC).astimezone() if local_now is None else local_now
    return wall_text(moment)
