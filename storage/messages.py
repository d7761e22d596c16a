"""The SMS sent from Slack: claiming a send, recording Mobizon's answer, and finding SMS again.

Statuses are written only by :func:`storage.delivery.apply_status`; this module records the send
itself (``claimed`` -> ``sent`` | ``failed`` | ``unknown``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from storage.schema import (
    MOBIZON_TS_FORMAT,
    parse_utc,
    utc_text,
    wall_text,
    write_transaction,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlite_utils import Database

#: Minutes Mobizon keeps trying to deliver when no validity was asked for.
DEFAULT_VALIDITY_MINUTES = 1440

#: Longest error text kept on a row (Mobizon's messages are short; stack traces are not wanted).
MAX_ERROR_LENGTH = 1000


class SendState(StrEnum):
    """Where the send itself stands (not the delivery: that is ``SmsRecord.status``)."""

    CLAIMED = "claimed"  # taken from Slack, Mobizon not yet answered
    SENT = "sent"  # Mobizon accepted it and gave a message id
    FAILED = "failed"  # Mobizon refused it; nothing was sent
    UNKNOWN = "unknown"  # the request left but no answer came back (timeout, 5xx)


class SmsNotFoundError(LookupError):
    """No SMS has the local id asked for."""


class SmsStateError(ValueError):
    """The SMS is not in a state that allows the requested change (e.g. failing a sent SMS)."""


class MessageIdTakenError(SmsStateError):
    """Mobizon gave a new SMS a message id another SMS already holds.

    Mobizon numbers its messages once, so the gateway that answered has forgotten the earlier
    one (a restarted simulator, another account over the same database). Statuses asked for that
    id now describe the new SMS: neither SMS can be tracked by it any more.
    """

    def __init__(self, sms_id: int, message_id: int, holder: int) -> None:
        self.sms_id = sms_id
        self.message_id = message_id
        self.holder = holder
        super().__init__(f"SMS {sms_id}: message id {message_id} is already held by SMS {holder}")


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """One SMS as stored: what was asked in Slack, what Mobizon answered, and where it stands.

    ``created_at`` ... ``gave_up_at`` are UTC; ``status_ts`` / ``start_send_ts`` are Mobizon's own
    ``YYYY-MM-DD HH:MM:SS`` text and ``deferred_to`` is the wall time the user wrote, all in the
    Mobizon account's time zone (``MOBIZON_TIMEZONE``).
    """

    id: int
    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None = field(repr=False)  # lets anyone post to the channel for a while
    recipient: str
    sender: str | None
    text: str
    segments: int | None
    encoding: str | None
    name: str | None
    deferred_to: str | None
    validity: int | None
    flash: bool
    state: SendState
    error: str | None
    message_id: int | None
    campaign_id: int | None
    campaign_status: int | None
    status: str | None
    status_ts: str | None
    start_send_ts: str | None
    slack_channel: str | None
    slack_ts: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    final_at: datetime | None
    gave_up_at: datetime | None
    sandbox: bool
    cancelled_by: str | None = None
    moderation: str | None = None
    moderation_comment: str | None = None
    cost: str | None = None
    currency: str | None = None

    @property
    def is_final(self) -> bool:
        """True once Mobizon reported a status it never changes again."""
        return self.final_at is not None

    @property
    def detached(self) -> bool:
        """True for a sent SMS whose Mobizon id was given to another SMS: no status applies."""
        return self.state is SendState.SENT and self.error is not None

    @property
    def is_pending(self) -> bool:
        """True while the SMS was sent and its delivery is still being tracked."""
        return self.state is SendState.SENT and self.final_at is None and self.gave_up_at is None


def sms_from_row(row: dict[str, Any]) -> SmsRecord:
    """Build an :class:`SmsRecord` from a ``SELECT * FROM sms`` row."""
    return SmsRecord(
        id=row["id"],
        trigger_id=row["trigger_id"],
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        response_url=row["response_url"],
        recipient=row["recipient"],
        sender=row["sender"],
        text=row["text"],
        segments=row["segments"],
        encoding=row["encoding"],
        name=row["name"],
        deferred_to=row["deferred_to"],
        validity=row["validity"],
        flash=bool(row["flash"]),
        state=SendState(row["state"]),
        error=row["error"],
        message_id=row["message_id"],
        campaign_id=row["campaign_id"],
        campaign_status=row["campaign_status"],
        status=row["status"],
        status_ts=row["status_ts"],
        start_send_ts=row["start_send_ts"],
        slack_channel=row["slack_channel"],
        slack_ts=row["slack_ts"],
        created_at=datetime.fromisoformat(row["created_at"]),
        sent_at=parse_utc(row["sent_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        final_at=parse_utc(row["final_at"]),
        gave_up_at=parse_utc(row["gave_up_at"]),
        sandbox=bool(row["sandbox"]),
        cancelled_by=row.get("cancelled_by"),
        moderation=row.get("moderation"),
        moderation_comment=row.get("moderation_comment"),
        cost=row.get("cost"),
        currency=row.get("currency"),
    )


def _one(db: Database, sql: str, params: list[Any]) -> SmsRecord | None:
    row = next(db.query(sql, params), None)
    return None if row is None else sms_from_row(row)


def _existing(db: Database, sms_id: int) -> SmsRecord:
    sms = get_sms(db, sms_id)
    if sms is None:
        raise SmsNotFoundError(f"SMS {sms_id} does not exist")
    return sms


def _deferred_text(deferred_to: datetime | str | None) -> str | None:
    if deferred_to is None:
        return None
    if isinstance(deferred_to, datetime):
        return wall_text(deferred_to)
    # Parsed to guarantee the text sorts as a time; the value kept is exactly what was given.
    datetime.strptime(deferred_to, MOBIZON_TS_FORMAT)  # noqa: DTZ007  # a wall time, no zone by design
    return deferred_to


@dataclass(frozen=True, slots=True)
class NewSend:
    """The row a send claims: the SMS, where it came from, and the key of its delivery.

    Storage's own copy of the domain's outgoing SMS and origin (it imports nothing of ours);
    ``trigger_id`` is the duplicate key (a redelivery of the same command claims nothing) and
    ``deferred_to`` the user's wall time (``YYYY-MM-DD HH:MM:SS`` or a naive datetime).
    """

    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None
    recipient: str
    text: str
    sender: str | None
    segments: int | None
    encoding: str | None
    name: str | None
    deferred_to: datetime | str | None
    validity: int | None
    flash: bool
    sandbox: bool = False


def claim_send(db: Database, new: NewSend, *, now: datetime | None = None) -> SmsRecord | None:
    """Claim the send of one SMS; ``None`` when its ``trigger_id`` was already claimed.

    Call it before asking Mobizon: a command Slack delivers twice then sends one SMS, not two.
    """
    stamp = utc_text(now)
    with write_transaction(db):
        cursor = db.execute(
            """
            INSERT INTO sms (
                trigger_id, team_id, channel_id, user_id, response_url, recipient, sender, text,
                segments, encoding, name, deferred_to, validity, flash, state, created_at,
                updated_at, sandbox
            )
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?)
            ON CONFLICT (trigger_id) DO NOTHING
            """,
            [
                new.trigger_id,
                new.team_id,
                new.channel_id,
                new.user_id,
                new.response_url,
                new.recipient,
                new.sender,
                new.text,
                new.segments,
                new.encoding,
                new.name,
                _deferred_text(new.deferred_to),
                new.validity,
                int(new.flash),
                stamp,
                stamp,
                int(new.sandbox),
            ],
        )
        if cursor.rowcount == 0:
            return None
        return get_sms(db, cursor.lastrowid or 0)


def record_sent(
    db: Database,
    sms_id: int,
    *,
    message_id: int,
    campaign_id: int,
    campaign_status: int,
    now: datetime | None = None,
) -> SmsRecord:
    """Mark a claimed SMS as accepted by Mobizon: state ``sent``, status ``NEW``, history kept.

    Also accepts an ``unknown`` SMS (its outcome found out later). Repeating the call with the
    same ``message_id`` changes nothing; raises :class:`SmsStateError` for any other conflict.

    When another SMS already holds ``message_id`` (:class:`MessageIdTakenError`), neither can be
    tracked by that id: this one is marked ``unknown`` and never looked up again, with the id
    in its error, and the holder, if still pending, is given up on (its channel is told), so the
    new SMS's statuses never reach the holder's message.
    """
    stamp = utc_text(now)
    with write_transaction(db):
        holder = next(
            db.query("SELECT id FROM sms WHERE message_id = ? AND id != ?", [message_id, sms_id]),
            None,
        )
        if holder is None:
            return _record_sent(
                db,
                sms_id,
                message_id,
                campaign_id=campaign_id,
                campaign_status=campaign_status,
                stamp=stamp,
            )
        _settle_collision(db, sms_id, message_id, holder["id"], stamp)
    # raised once the settlement is committed (raising inside would roll it back)
    raise MessageIdTakenError(sms_id, message_id, holder["id"])


def _record_sent(
    db: Database,
    sms_id: int,
    message_id: int,
    *,
    campaign_id: int,
    campaign_status: int,
    stamp: str,
) -> SmsRecord:
    cursor = db.execute(
        """
        UPDATE sms
        SET state = 'sent', message_id = ?, campaign_id = ?, campaign_status = ?,
            status = 'NEW', status_ts = NULL, error = NULL, sent_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('claimed', 'unknown')
        """,
        [message_id, campaign_id, campaign_status, stamp, stamp, sms_id],
    )
    if cursor.rowcount == 0:
        current = _existing(db, sms_id)
        if current.state is SendState.SENT and current.message_id == message_id:
            return current
        raise SmsStateError(f"SMS {sms_id} is {current.state}; it cannot be marked sent")
    db.execute(
        """
        INSERT INTO status_history (message_id, status, status_ts, source, recorded_at)
        VALUES (?, 'NEW', NULL, 'command', ?)
        """,
        [message_id, stamp],
    )
    return _existing(db, sms_id)


def _settle_collision(db: Database, sms_id: int, message_id: int, holder: int, stamp: str) -> None:
    db.execute(
        """
        UPDATE sms SET state = 'unknown', error = ?, checked_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('claimed', 'unknown')
        """,
        [
            f"sent as Mobizon message {message_id}, an id SMS {holder} already holds: not tracked",
            stamp,
            stamp,
            sms_id,
        ],
    )
    # imported here: storage.delivery imports this module
    from storage import delivery  # noqa: PLC0415

    delivery.give_up(db, holder, now=datetime.fromisoformat(stamp))
    db.execute(
        "UPDATE sms SET error = ?, updated_at = ? WHERE id = ? AND state = 'sent'",
        [f"Mobizon gave its message id {message_id} to a later SMS ({sms_id})", stamp, holder],
    )


def record_failed(
    db: Database,
    sms_id: int,
    *,
    error: str,
    outcome_unknown: bool,
    now: datetime | None = None,
) -> SmsRecord:
    """Mark a claimed SMS as refused by Mobizon (``failed``) or as possibly sent (``unknown``).

    ``outcome_unknown`` is for a request that left but got no answer (timeout, 5xx): the SMS
    may have gone out, so it must not be re-sent blindly. Raises :class:`SmsStateError` on a
    ``sent`` SMS. ``error`` must already be free of secrets; it is cut to a bounded length.
    """
    state = SendState.UNKNOWN if outcome_unknown else SendState.FAILED
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE sms SET state = ?, error = ?, updated_at = ? WHERE id = ? AND state != 'sent'",
            [state.value, error[:MAX_ERROR_LENGTH], utc_text(now), sms_id],
        )
        if cursor.rowcount == 0:
            current = _existing(db, sms_id)
            raise SmsStateError(f"SMS {sms_id} is {current.state}; it cannot be marked {state}")
        return _existing(db, sms_id)


def set_slack_message(
    db: Database, sms_id: int, *, channel: str, ts: str, now: datetime | None = None
) -> None:
    """Remember the bot's Slack message about this SMS, so status changes can update it."""
    cursor = db.execute(
        "UPDATE sms SET slack_channel = ?, slack_ts = ?, updated_at = ? WHERE id = ?",
        [channel, ts, utc_text(now), sms_id],
    )
    if cursor.rowcount == 0:
        raise SmsNotFoundError(f"SMS {sms_id} does not exist")


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
    db: Database, *, claimed_before: datetime, unknown_since: datetime
) -> list[SmsRecord]:
    """Sends whose outcome Mobizon never told us, oldest first: candidates for a lookup.

    ``claimed`` rows created before ``claimed_before`` (a claim of a process that is gone: it
    died between the claim and Mobizon's answer), and ``unknown`` rows (a timeout, a 5xx)
    created since ``unknown_since``; rows marked by :func:`mark_checked` are left out.
    """
    rows = db.query(
        """
        SELECT * FROM sms
        WHERE state IN ('claimed', 'unknown') AND message_id IS NULL AND checked_at IS NULL
          AND ((state = 'claimed' AND created_at < ?) OR (state = 'unknown' AND created_at >= ?))
        ORDER BY created_at, id
        """,
        [utc_text(claimed_before), utc_text(unknown_since)],
    )
    return [sms_from_row(row) for row in rows]


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


def mark_checked(db: Database, sms_id: int, *, error: str, now: datetime | None = None) -> None:
    """Stop looking up an unsettled send (the lookup could not tell); its state becomes unknown."""
    stamp = utc_text(now)
    db.execute(
        """
        UPDATE sms SET state = 'unknown', error = ?, checked_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('claimed', 'unknown')
        """,
        [error[:MAX_ERROR_LENGTH], stamp, stamp, sms_id],
    )


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
