"""Delivery tracking: the one place a status is written, with its history and outbox rows.

:func:`apply_status` writes a status change, its history row and its outbox row
(:mod:`storage.outbox_queue`) in one transaction, and give-ups; Mobizon's webhook events are
:mod:`storage.webhooks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage import tables
from storage.engine import chunks, reading, transactional
from storage.messages import PendingStatus, get_by_message_id
from storage.outbox import NotificationKind
from storage.outbox_queue import queue_notification, queue_statuses
from storage.records import SmsRecord
from storage.schema import utc_text
from storage.status import is_final, should_apply
from storage.status_writes import HISTORY, WRITE_CHANGE, write_changes
from storage.tables import PENDING, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: Who reported a status: Mobizon's webhook, the status poller, or a user's ``/sms status``.
UpdateSource = Literal["webhook", "poll", "command"]

#: The status a give-up's history row names, by its kind: why tracking stopped (no final status
#: in time, or a moderator's decline). Never an SMS's status nor an outbox row's: the history's
#: source (``giveup``) marks it as none of Mobizon's.
GIVE_UP_HISTORY = {NotificationKind.GIVEUP: "GAVEUP", NotificationKind.DECLINED: "DECLINED"}
GAVE_UP = GIVE_UP_HISTORY[NotificationKind.GIVEUP]

_SOURCES = frozenset(get_args(UpdateSource))


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One status Mobizon reported for one message, from whichever source.

    ``status_ts`` / ``start_send_ts`` are Mobizon's ``YYYY-MM-DD HH:MM:SS`` text, as sent;
    ``None`` fields leave what is stored untouched.
    """

    message_id: int
    status: str
    status_ts: str | None
    _: KW_ONLY
    source: UpdateSource
    segments: int | None = None
    start_send_ts: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedUpdate:
    """A change that was written: the SMS as it is now, its status before, its outbox row.

    ``notification_id`` is ``None`` when an outbox row for the same (SMS, status) already waits.
    """

    sms: SmsRecord
    previous: str | None
    notification_id: int | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One row of an SMS's status history."""

    message_id: int
    status: str
    status_ts: str | None
    source: str
    recorded_at: datetime


@transactional
def apply_status(
    db: Database,
    update: StatusUpdate,
    *,
    now: datetime | None = None,
    sandbox: bool | None = None,
    notify: bool = True,
) -> AppliedUpdate | None:
    """Apply ``update`` if it moves the SMS forward; ``None`` when ignored or not the bot's SMS.

    The only function that writes a Mobizon status (:func:`apply_statuses` is the same rule
    over many updates in one transaction). Safe to call from the webhook and the poller at once,
    over one or several connections: the change, its history row and its outbox row are written
    together or not at all. With ``sandbox`` set, an SMS sent in the other mode is not the
    reporter's (a simulator's id can name a stranger's message at Mobizon). With ``notify``
    false no outbox row is queued (the ``NEW`` of a send, before its channel message exists).
    """
    _check_source(update)
    moment = now or datetime.now(UTC)
    # what the rule reads, not the whole row: the row is read once, as the change left it
    found = db.execute(_CURRENT_ONE, {"message_id": update.message_id}).first()
    current = None if found is None else _current_of(found)
    if current is None or not _admits(current, update, sandbox):
        return None
    notification_id = _write_change(db, current.id, update, moment, notify=notify)
    record = get_by_message_id(db, update.message_id)
    if record is None:  # pragma: no cover - the row was read and updated in this transaction
        raise LookupError(f"message {update.message_id} vanished")
    return AppliedUpdate(sms=record, previous=current.status, notification_id=notification_id)


def apply_statuses(
    db: Database,
    updates: Iterable[StatusUpdate],
    *,
    now: datetime | None = None,
    sandbox: bool | None = None,
    seen: Mapping[int, PendingStatus] | None = None,
) -> list[int]:
    """Apply many updates in one transaction, each by :func:`apply_status`'s rule, in order.

    Writes the same status, history and outbox rows as calling :func:`apply_status` for each
    update in turn, with one read of the SMS concerned and one commit for all of them (a poll
    cycle in which thousands of SMS change). Returns the message ids whose status changed, in
    the order applied (an id twice when two of its updates each moved it forward).

    ``seen`` is the statuses as the caller read them a moment ago (the poller's
    :func:`~storage.messages.pending_statuses`): an update that would not move those forward
    cannot move the stored ones, which only go forward, so it is dropped before the write lock
    is taken, and a batch with nothing new (a poll cycle's steady state) writes nothing.
    """
    batch = list(updates)
    for update in batch:
        _check_source(update)
    if seen is not None:
        batch = [
            update
            for update in batch
            if (known := seen.get(update.message_id)) is None
            or _moves_forward(known.status, known.status_ts, update)
        ]
    if not batch:
        return []
    return _apply_batch(db, batch, now=now, sandbox=sandbox)


@transactional
def _apply_batch(
    db: Database, batch: list[StatusUpdate], *, now: datetime | None, sandbox: bool | None
) -> list[int]:
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    changed: list[int] = []
    changes: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    notifications: list[tuple[int, str, bool]] = []
    currents = _currents(db, (update.message_id for update in batch))
    for update in batch:
        current = currents.get(update.message_id)
        if current is None or not _admits(current, update, sandbox):
            continue
        # the rows _write_change writes, written below in one statement of each kind
        final = is_final(update.status)
        changes.append(_change_params(current.id, update, stamp, final=final))
        history.append(_history_params(update, stamp))
        notifications.append((update.message_id, update.status, final))
        current.status = update.status
        current.status_ts = update.status_ts or current.status_ts
        changed.append(update.message_id)
    if changes:
        write_changes(db, changes, history)
        queue_statuses(db, notifications, moment)
    return changed


@dataclass(slots=True)
class _Current:
    """What the status rule reads of an SMS: its row id, status and whose it is."""

    id: int
    status: str | None
    status_ts: str | None
    detached: bool
    sandbox: bool


def _check_source(update: StatusUpdate) -> None:
    if update.source not in _SOURCES:
        raise ValueError(f"unknown status source {update.source!r}")


def _admits(current: _Current, update: StatusUpdate, sandbox: bool | None) -> bool:
    """The one rule: whether ``update`` moves ``current`` forward and is the bot's to apply."""
    # a detached SMS's id now names another SMS (claims.record_sent): its reports are not ours
    return (
        not current.detached
        and (sandbox is None or current.sandbox == sandbox)
        and _moves_forward(current.status, current.status_ts, update)
    )


def _moves_forward(status: str | None, status_ts: str | None, update: StatusUpdate) -> bool:
    """Whether ``update`` moves an SMS at ``status`` forward (``storage.status.should_apply``)."""
    return should_apply(status, status_ts, update.status, update.status_ts)


_CURRENT = sa.select(
    sms.c.message_id, sms.c.id, sms.c.status, sms.c.status_ts, sms.c.detached, sms.c.sandbox
)
#: What the status rule reads of the SMS a batch names, built once (the ids a parameter): on
#: SQLite a bounded ``IN`` list at a time, on PostgreSQL all of them in one array.
_CURRENTS = _CURRENT.where(sms.c.message_id.in_(sa.bindparam("ids", expanding=True)))
_CURRENTS_PG = _CURRENT.where(
    sms.c.message_id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger)))
)


#: What the status rule reads of the SMS one update names.
_CURRENT_ONE = _CURRENT.where(sms.c.message_id == sa.bindparam("message_id"))


def _current_of(row: Sequence[Any]) -> _Current:
    """The rule's view of an SMS from a row of :data:`_CURRENT` (its message id first)."""
    return _Current(int(row[1]), row[2], row[3], bool(row[4]), bool(row[5]))


def _currents(db: Database, message_ids: Iterable[int]) -> dict[int, _Current]:
    found: dict[int, _Current] = {}
    if db.dialect.name == "postgresql":
        groups, statement = [sorted(set(message_ids))], _CURRENTS_PG
    else:
        groups, statement = list(chunks(message_ids)), _CURRENTS
    for ids in groups:
        for row in db.execute(statement, {"ids": ids}):
            found[int(row[0])] = _current_of(row)
    return found


def _change_params(
    sms_id: int, update: StatusUpdate, stamp: str, *, final: bool
) -> dict[str, object]:
    return {
        "sms_id": sms_id,
        "new_status": update.status,
        "new_status_ts": update.status_ts,
        "new_segments": update.segments,
        "new_start_send_ts": update.start_send_ts,
        "stamp": stamp,
        "final": final,
    }


def _history_params(update: StatusUpdate, stamp: str) -> dict[str, object]:
    return {
        "message_id": update.message_id,
        "status": update.status,
        "status_ts": update.status_ts,
        "source": update.source,
        "recorded_at": stamp,
    }


def _write_change(
    db: Database, sms_id: int, update: StatusUpdate, moment: datetime, *, notify: bool = True
) -> int | None:
    """Write an admitted change: the status, its history row, its outbox row (its id, or None)."""
    final = is_final(update.status)
    stamp = utc_text(moment)
    db.execute(WRITE_CHANGE, _change_params(sms_id, update, stamp, final=final))
    db.execute(HISTORY, _history_params(update, stamp))
    if not notify:
        return None
    return queue_notification(
        db,
        update.message_id,
        NotificationKind.STATUS,
        moment,
        status=update.status,
        reply_owed=final,
    )


@transactional
def give_up(
    db: Database,
    sms_id: int,
    *,
    now: datetime | None = None,
    kind: Literal[NotificationKind.GIVEUP, NotificationKind.DECLINED] = NotificationKind.GIVEUP,
) -> AppliedUpdate | None:
    """Stop tracking an overdue SMS and queue a "no final status came" notification.

    ``None`` when the SMS is not pending (final, already given up, never sent, or unknown).
    A status Mobizon reports later is still applied. ``kind`` says why tracking stopped
    (``GIVEUP``; a moderator's decline is ``DECLINED``): the outbox row's kind, and in the
    history :data:`GIVE_UP_HISTORY`'s name for it.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    message_id = db.execute(
        sa.update(sms)
        .where(sms.c.id == sms_id, PENDING)
        .values(gave_up_at=stamp, updated_at=stamp)
        .returning(sms.c.message_id)
    ).scalar()
    if message_id is None:
        return None
    _record_history(
        db,
        message_id=message_id,
        status=GIVE_UP_HISTORY[kind],
        status_ts=None,
        source="giveup",
        stamp=stamp,
    )
    notification_id = queue_notification(db, message_id, kind, moment, reply_owed=True)
    record = get_by_message_id(db, message_id)
    if record is None:  # pragma: no cover - the row was updated in this transaction
        raise LookupError(f"SMS {sms_id} vanished")
    return AppliedUpdate(sms=record, previous=record.status, notification_id=notification_id)


def _record_history(
    db: Database,
    *,
    message_id: int,
    status: str,
    status_ts: str | None,
    source: str,
    stamp: str,
) -> None:
    db.execute(
        HISTORY,
        {
            "message_id": message_id,
            "status": status,
            "status_ts": status_ts,
            "source": source,
            "recorded_at": stamp,
        },
    )


@reading
def status_history(db: Database, message_id: int) -> list[StatusChange]:
    """Every change applied to one SMS's status, in the order applied."""
    history = tables.status_history
    rows = db.execute(
        sa.select(history).where(history.c.message_id == message_id).order_by(history.c.id)
    )
    return [
        StatusChange(
            message_id=row.message_id,
            status=row.status,
            status_ts=row.status_ts,
            source=row.source,
            recorded_at=datetime.fromisoformat(row.recorded_at),
        )
        for row in rows
    ]
