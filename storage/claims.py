"""The send of an SMS as stored: claiming it, then recording Mobizon's answer.

``claimed`` -> ``sent`` | ``failed`` | ``unknown``. The first status of a sent SMS (``NEW``)
is written by :func:`storage.delivery.apply_status`, the one writer of statuses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Executable, Text, bindparam, select, update
from sqlalchemy import delete as sa_delete

from storage import delivery
from storage.engine import dialect_insert, transactional, write_transaction
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
from storage.schema import MOBIZON_TS_FORMAT, utc_text, wall_text
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


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
    shorten_links: bool = False
    #: The replica that claims it (and sends it); ``None`` for a claim no replica holds.
    claimed_by: str | None = None


@transactional
def claim_send(db: Database, new: NewSend, *, now: datetime | None = None) -> SmsRecord | None:
    """Claim the send of one SMS; ``None`` when its ``trigger_id`` was already claimed.

    Call it before asking Mobizon: a command Slack delivers twice then sends one SMS, not two.
    """
    stamp = utc_text(now)
    inserted = db.execute(
        _claim_statement(db.dialect.name),
        {
            "trigger_id": new.trigger_id,
            "team_id": new.team_id,
            "channel_id": new.channel_id,
            "user_id": new.user_id,
            "response_url": new.response_url,
            "recipient": new.recipient,
            "sender": new.sender,
            "text": new.text,
            "segments": new.segments,
            "encoding": new.encoding,
            "name": new.name,
            "deferred_to": _deferred_text(new.deferred_to),
            "validity": new.validity,
            "flash": new.flash,
            "state": SendState.CLAIMED.value,
            "created_at": stamp,
            "updated_at": stamp,
            "sandbox": new.sandbox,
            "shorten_links": new.shorten_links,
            "claimed_by": new.claimed_by,
        },
    ).scalar()
    return None if inserted is None else get_sms(db, inserted)


@functools.cache
def _claim_statement(dialect: str) -> Executable:
    """The claim's insert for ``dialect``, built once (its values given as parameters)."""
    return (
        dialect_insert(dialect, sms_table)
        .on_conflict_do_nothing(index_elements=["trigger_id"])
        .returning(sms_table.c.id)
    )


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
_OPEN = (SendState.CLAIMED.value, SendState.UNKNOWN.value)

#: Another SMS holding a message id (statements built once: values are parameters).
_HOLDER = select(sms_table.c.id).where(
    sms_table.c.message_id == bindparam("message_id"), sms_table.c.id != bindparam("sms_id")
)
_RECORD_SENT = (
    update(sms_table)
    .where(sms_table.c.id == bindparam("sms_id"), sms_table.c.state.in_(_OPEN))
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
    delivery.apply_status(
        db,
        delivery.StatusUpdate(message_id, "NEW", None, source="command"),
        now=moment,
        notify=False,
    )
    record = _existing(db, sms_id)
    if record.channel_id:
        queue_notification(db, message_id, NotificationKind.POST, moment, note=note)
    return record


def _settle_collision(db: Database, sms_id: int, message_id: int, holder: int, stamp: str) -> None:
    db.execute(
        update(sms_table)
        .where(sms_table.c.id == sms_id, sms_table.c.state.in_(_OPEN))
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


@transactional
def mark_checked(db: Database, sms_id: int, *, error: str, now: datetime | None = None) -> None:
    """Stop looking up an unsettled send (the lookup could not tell); its state becomes unknown."""
    stamp = utc_text(now)
    db.execute(
        update(sms_table)
        .where(sms_table.c.id == sms_id, sms_table.c.state.in_(_OPEN))
        .values(
            state=SendState.UNKNOWN.value,
            error=error[:MAX_ERROR_LENGTH],
            checked_at=stamp,
            updated_at=stamp,
        )
    )


@transactional
def take_over(
    db: Database,
    sms_id: int,
    *,
    seen: str | None,
    replica: str | None,
    state: SendState = SendState.CLAIMED,
    left: bool = False,
) -> bool:
    """Make ``replica`` the holder of an unsettled send; False when another got there first.

    ``seen`` is the holder as read a moment ago (a replica that is gone, or none), ``state`` the
    send's state then (an interrupted claim, or a send whose answer was lost) and ``left``
    whether it was marked as leaving (:func:`start_sending`): it is taken only if it is still
    that one's, in that state, as marked, and without a Mobizon id. So of two replicas settling
    it at once one sends it (or adopts the SMS found at Mobizon), and a claim its holder marked
    as leaving meanwhile is not taken as one that never left. ``replica`` is ``None`` for a
    process without a replica id (one process, taking over the claims of its previous run).
    """
    holder = sms_table.c.claimed_by.is_(None) if seen is None else sms_table.c.claimed_by == seen
    mark = sms_table.c.sending_at.is_not(None) if left else sms_table.c.sending_at.is_(None)
    changed = db.execute(
        update(sms_table)
        .where(
            sms_table.c.id == sms_id,
            sms_table.c.state == state.value,
            sms_table.c.message_id.is_(None),
            holder,
            mark,
        )
        .values(claimed_by=replica)
    ).rowcount
    return bool(changed)


@transactional
def start_sending(
    db: Database,
    sms_id: int,
    *,
    replica: str | None,
    again: bool = False,
    now: datetime | None = None,
) -> bool:
    """Mark the claim ``sms_id`` as leaving for Mobizon, just before its request goes.

    The holder (``replica``; ``None`` for a process without a replica id) marks its unsent
    claim once: False, and nothing may be sent, when the claim is no longer its own (another
    replica took it over while this one was held up), was settled meanwhile, or is marked
    already. A claim without the mark never left: whoever takes it over sends it at once.
    ``again`` is for a claim marked before whose SMS Mobizon does not have (looked up after the
    delay), sent again by the replica that took it over: its mark is replaced.
    """
    statement = _SEND_AGAIN if again else _START_SENDING
    changed = db.execute(
        statement, {"sms_id": sms_id, "replica": replica, "stamp": utc_text(now)}
    ).rowcount
    return bool(changed)


def _leaving(*, again: bool) -> Executable:
    """The compare-and-set that marks a claim as leaving (built once; values as parameters)."""
    mark = sms_table.c.sending_at
    return (
        update(sms_table)
        .where(
            sms_table.c.id == bindparam("sms_id"),
            sms_table.c.state == SendState.CLAIMED.value,
            sms_table.c.message_id.is_(None),
            mark.is_not(None) if again else mark.is_(None),
            sms_table.c.claimed_by.is_not_distinct_from(bindparam("replica", type_=Text)),
        )
        .values(sending_at=bindparam("stamp"))
    )


_START_SENDING = _leaving(again=False)
_SEND_AGAIN = _leaving(again=True)


@transactional
def release_claim(db: Database, sms_id: int) -> None:
    """Forget a claim refused before anything was sent (an unknown sender name)."""
    db.execute(
        sa_delete(sms_table).where(
            sms_table.c.id == sms_id,
            sms_table.c.state == SendState.CLAIMED.value,
            sms_table.c.message_id.is_(None),
        )
    )
