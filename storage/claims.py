"""The send of an SMS as stored: claiming it, then recording Mobizon's answer.

``claimed`` -> ``sent`` | ``failed`` | ``unknown``. The first status of a sent SMS (``NEW``)
is written by :func:`storage.delivery.apply_status`, the one writer of statuses.

Recording the answer is here; the claim itself is :mod:`storage.claiming` and who holds an
unsettled claim :mod:`storage.claim_holders`, both named here too, so ``claims.claim_send``
and ``claims.take_over`` are where they always were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update

from storage import delivery
from storage.claim_holders import (
    OPEN_STATES,
    mark_checked,
    release_claim,
    start_sending,
    take_over,
)
from storage.claiming import (
    NewSend,
    OptedOutNumber,
    claim_send,
    claim_send_unless_opted_out,
    claim_sends,
    claim_sends_unless_opted_out,
)
from storage.engine import transactional, write_transaction
from storage.messages import get_sms
from storage.outbox import NotificationKind, PostNote
from storage.outbox_queue import queue_notification
from storage.records import (
    MAX_ERROR_LENGTH,
    MessageIdTakenError,
    SendState,
    SmsNotFoundError,
    SmsRecord,
    SmsStateError,
)
from storage.schema import utc_text
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

__all__ = [
    "NewSend",
    "OptedOutNumber",
    "claim_send",
    "claim_send_unless_opted_out",
    "claim_sends",
    "claim_sends_unless_opted_out",
    "mark_checked",
    "record_failed",
    "record_sent",
    "release_claim",
    "set_slack_message",
    "start_sending",
    "take_over",
]


def _existing(db: Database, sms_id: int) -> SmsRecord:
    sms = get_sms(db, sms_id)
    if sms is None:
        raise SmsNotFoundError(f"SMS {sms_id} does not exist")
    return sms


def record_sent(
    db: Database,
    sms_id: int,
    *,
    message_id: int,
    campaign_id: int,
    campaign_status: int,
    note: PostNote | None = None,
    now: datetime | None = None,
) -> SmsRecord:
    """Mark a claimed SMS as accepted by Mobizon: state ``sent``, then status ``NEW``.

    The status and its history row (source ``command``) are written by
    :func:`storage.delivery.apply_status`, and the SMS's channel post is queued (an outbox row of
    kind ``post``, said with ``note`` when it comes late), in the same transaction: the notifier
    makes the post, and the statuses that follow wait for it.

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
        holder = db.execute(_HOLDER, {"message_id": message_id, "sms_id": sms_id}).scalar()
        if holder is None:
            return _record_sent(
                db,
                sms_id,
                message_id,
                campaign_id=campaign_id,
                campaign_status=campaign_status,
                note=note,
                moment=moment,
            )
        _settle_collision(db, sms_id, message_id, holder, stamp)
    # raised once the settlement is committed (raising inside would roll it back)
    raise MessageIdTakenError(sms_id, message_id, holder)


#: Send states from which an SMS may still become ``sent`` (its outcome found out later).

#: Another SMS holding a message id (statements built once: values are parameters).
_HOLDER = select(sms_table.c.id).where(
    sms_table.c.message_id == bindparam("message_id"), sms_table.c.id != bindparam("sms_id")
)
_RECORD_SENT = (
    update(sms_table)
    .where(sms_table.c.id == bindparam("sms_id"), sms_table.c.state.in_(OPEN_STATES))
    .values(
        state=SendState.SENT.value,
        message_id=bindparam("new_message_id"),
        campaign_id=bindparam("new_campaign_id"),
        campaign_status=bindparam("new_campaign_status"),
        error=None,
        sent_at=bindparam("stamp"),
        updated_at=bindparam("stamp"),
    )
)
_SET_SLACK_MESSAGE = (
    update(sms_table)
    .where(sms_table.c.id == bindparam("sms_id"))
    .values(
        slack_channel=bindparam("channel"),
        slack_ts=bindparam("ts"),
        updated_at=bindparam("stamp"),
    )
)


def _record_sent(
    db: Database,
    sms_id: int,
    message_id: int,
    *,
    campaign_id: int,
    campaign_status: int,
    note: PostNote | None,
    moment: datetime,
) -> SmsRecord:
    stamp = utc_text(moment)
    changed = db.execute(
        _RECORD_SENT,
        {
            "sms_id": sms_id,
            "new_message_id": message_id,
            "new_campaign_id": campaign_id,
            "new_campaign_status": campaign_status,
            "stamp": stamp,
        },
    ).rowcount
    if changed == 0:
        current = _existing(db, sms_id)
        if current.state is SendState.SENT and current.message_id == message_id:
            return current
        raise SmsStateError(f"SMS {sms_id} is {current.state}; it cannot be marked sent")
    # the first status, by the one writer of statuses: the post about to be queued shows it
    applied = delivery.apply_status(
        db,
        delivery.StatusUpdate(message_id, "NEW", None, source="command"),
        now=moment,
        notify=False,
    )
    # the row as the status left it (read once there), else as the send left it
    record = applied.sms if applied is not None else _existing(db, sms_id)
    if record.channel_id:
        queue_notification(db, message_id, NotificationKind.POST, moment, note=note)
    return record


def _settle_collision(db: Database, sms_id: int, message_id: int, holder: int, stamp: str) -> None:
    db.execute(
        update(sms_table)
        .where(sms_table.c.id == sms_id, sms_table.c.state.in_(OPEN_STATES))
        .values(
            state=SendState.UNKNOWN.value,
            error=(
                f"sent as Mobizon message {message_id}, an id SMS {holder} already holds:"
                " not tracked"
            ),
            checked_at=stamp,
            updated_at=stamp,
        )
    )
    delivery.give_up(db, holder, now=datetime.fromisoformat(stamp))
    db.execute(
        update(sms_table)
        .where(sms_table.c.id == holder, sms_table.c.state == SendState.SENT.value)
        .values(
            error=f"Mobizon gave its message id {message_id} to a later SMS ({sms_id})",
            detached=True,
            updated_at=stamp,
        )
    )


@transactional
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
    changed = db.execute(
        update(sms_table)
        .where(sms_table.c.id == sms_id, sms_table.c.state != SendState.SENT.value)
        .values(state=state.value, error=error[:MAX_ERROR_LENGTH], updated_at=utc_text(now))
    ).rowcount
    if changed == 0:
        current = _existing(db, sms_id)
        raise SmsStateError(f"SMS {sms_id} is {current.state}; it cannot be marked {state}")
    return _existing(db, sms_id)


@transactional
def set_slack_message(
    db: Database, sms_id: int, *, channel: str, ts: str, now: datetime | None = None
) -> None:
    """Remember the bot's Slack message about this SMS, so status changes can update it."""
    changed = db.execute(
        _SET_SLACK_MESSAGE,
        {"sms_id": sms_id, "channel": channel, "ts": ts, "stamp": utc_text(now)},
    ).rowcount
    if changed == 0:
        raise SmsNotFoundError(f"SMS {sms_id} does not exist")
