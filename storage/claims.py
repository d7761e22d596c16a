"""The send of an SMS as stored: claiming it, then recording Mobizon's answer.

``claimed`` -> ``sent`` | ``failed`` | ``unknown``. The first status of a sent SMS (``NEW``)
is written by :func:`storage.delivery.apply_status`, the one writer of statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage import delivery
from storage.messages import get_sms
from storage.records import (
    MAX_ERROR_LENGTH,
    MessageIdTakenError,
    SendState,
    SmsNotFoundError,
    SmsRecord,
    SmsStateError,
)
from storage.schema import MOBIZON_TS_FORMAT, utc_text, wall_text, write_transaction

if TYPE_CHECKING:
    from sqlite_utils import Database


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
    """Mark a claimed SMS as accepted by Mobizon: state ``sent``, then status ``NEW``.

    The status, its history row (source ``command``) and no outbox row (the channel message
    is yet to be posted) are written by :func:`storage.delivery.apply_status`, in the same
    transaction.

    Also accepts an ``unknown`` SMS (its outcome found out later). Repeating the call with the
    same ``message_id`` changes nothing; raises :class:`SmsStateError` for any other conflict.

    When another SMS already holds ``message_id`` (:class:`MessageIdTakenError`), neither can be
    tracked by that id: this one is marked ``unknown`` and never looked up again, with the id
    in its error, and the holder, if still pending, is given up on (its channel is told), so the
    new SMS's statuses never reach the holder's message.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
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
                moment=moment,
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
    moment: datetime,
) -> SmsRecord:
    stamp = utc_text(moment)
    cursor = db.execute(
        """
        UPDATE sms
        SET state = 'sent', message_id = ?, campaign_id = ?, campaign_status = ?,
            error = NULL, sent_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('claimed', 'unknown')
        """,
        [message_id, campaign_id, campaign_status, stamp, stamp, sms_id],
    )
    if cursor.rowcount == 0:
        current = _existing(db, sms_id)
        if current.state is SendState.SENT and current.message_id == message_id:
            return current
        raise SmsStateError(f"SMS {sms_id} is {current.state}; it cannot be marked sent")
    # the first status, by the one writer of statuses; nothing to tell Slack about yet
    delivery.apply_status(
        db,
        delivery.StatusUpdate(message_id, "NEW", None, source="command"),
        now=moment,
        notify=False,
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
