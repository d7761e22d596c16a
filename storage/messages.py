"""Finding the SMS sent from Slack again: by id, by channel, by what is still open.

The rows are :class:`~storage.records.SmsRecord`; writing the send is :mod:`storage.claims`,
writing a status :mod:`storage.delivery`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
)

from storage.engine import chunks, reading
from storage.records import SendState, SmsRecord, sms_from_row
from storage.replicas import live_ids
from storage.schema import MOBIZON_TS_FORMAT, utc_text, wall_text
from storage.tables import PENDING, UNSETTLED, sms

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Connection as Database

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


def _records(db: Database, query: Select[tuple[object, ...]]) -> list[SmsRecord]:
    return [sms_from_row(row) for row in db.execute(query).mappings()]


def _one(db: Database, *where: ColumnElement[bool]) -> SmsRecord | None:
    row = db.execute(select(sms).where(*where)).mappings().first()
    return None if row is None else sms_from_row(row)


#: The two lookups every send, status and post makes, built once (the id as a parameter).
_BY_ID = select(sms).where(sms.c.id == bindparam("sms_id"))
_BY_MESSAGE_ID = select(sms).where(sms.c.message_id == bindparam("message_id"))
_BY_MESSAGE_IDS = select(sms).where(sms.c.message_id.in_(bindparam("ids", expanding=True)))


@reading
def get_sms(db: Database, sms_id: int) -> SmsRecord | None:
    """Return the SMS with local id ``sms_id``, or ``None``."""
    row = db.execute(_BY_ID, {"sms_id": sms_id}).mappings().first()
    return None if row is None else sms_from_row(row)


@reading
def get_by_message_id(db: Database, message_id: int) -> SmsRecord | None:
    """Return the SMS Mobizon knows as ``message_id``; ``None`` when the bot did not send it."""
    row = db.execute(_BY_MESSAGE_ID, {"message_id": message_id}).mappings().first()
    return None if row is None else sms_from_row(row)


@reading
def get_by_message_ids(db: Database, ids: Iterable[int]) -> dict[int, SmsRecord]:
    """Return the SMS among Mobizon ``ids`` that the bot sent, keyed by message id."""
    found: dict[int, SmsRecord] = {}
    for chunk in chunks(ids):  # bounded IN lists: no limit on how many ids are asked at once
        for row in db.execute(_BY_MESSAGE_IDS, {"ids": chunk}).mappings():
            record = sms_from_row(row)
            if record.message_id is not None:
                found[record.message_id] = record
    return found


@reading
def get_by_slack_post(db: Database, channel: str, ts: str) -> SmsRecord | None:
    """Return the SMS whose channel post is ``ts`` in ``channel``, or ``None``."""
    return _one(db, sms.c.slack_channel == channel, sms.c.slack_ts == ts)


@reading
def latest_in_channel(
    db: Database, *, team_id: str, channel_id: str, limit: int = 10
) -> list[SmsRecord]:
    """Return the SMS last sent from one Slack channel, newest first (``/sms status``).

    A send to many's recipients are not among them: its one message in the channel tells them.
    """
    return _records(
        db,
        select(sms)
        .where(
            sms.c.team_id == team_id,
            sms.c.channel_id == channel_id,
            sms.c.state == SendState.SENT.value,
            sms.c.campaign.is_(None),
        )
        .order_by(sms.c.id.desc())
        .limit(limit),
    )


@reading
def unsettled_sends(
    db: Database,
    *,
    claimed_before: datetime,
    unknown_since: datetime,
    claimed_up_to: int | None = None,
    live_cutoff: str | None = None,
    replica: str | None = None,
) -> list[SmsRecord]:
    """Sends whose outcome Mobizon never told us, oldest first: candidates for a lookup.

    With ``live_cutoff`` (:func:`storage.replicas.lease_cutoff`), a claim that names its replica
    is interrupted once that replica's heartbeat is older than the cutoff (or its row is gone);
    claims naming none are judged by time, as below. With ``replica`` too, the ``unknown`` sends
    are this replica's, those of replicas that are gone, and those naming none.

    ``claimed`` rows of a process that is gone (it died between the claim and Mobizon's
    answer): created before ``claimed_before``, or with a row id up to ``claimed_up_to`` (the
    last row when this process started, which also catches a claim stored in the very second the
    process started); and ``unknown`` rows (a timeout, a 5xx) created since ``unknown_since``.
    Rows marked by :func:`mark_checked` are left out.
    """
    by_time = or_(
        sms.c.created_at < utc_text(claimed_before),
        sms.c.id <= (-1 if claimed_up_to is None else claimed_up_to),
    )
    if live_cutoff is None:
        gone = by_time
    else:
        # a claim a replica holds is interrupted once that replica is gone
        gone = or_(
            and_(sms.c.claimed_by.is_(None), by_time),
            sms.c.claimed_by.not_in(live_ids(live_cutoff)),
        )
    claimed = (sms.c.state == SendState.CLAIMED.value) & gone
    unknown = (sms.c.state == SendState.UNKNOWN.value) & (
        sms.c.created_at >= utc_text(unknown_since)
    )
    if live_cutoff is not None and replica is not None:
        # each replica looks up its own unknown sends, and those of replicas that are gone
        unknown &= or_(
            sms.c.claimed_by.is_(None),
            sms.c.claimed_by == replica,
            sms.c.claimed_by.not_in(live_ids(live_cutoff)),
        )
    return _records(
        db,
        select(sms).where(UNSETTLED, or_(claimed, unknown)).order_by(sms.c.created_at, sms.c.id),
    )


@reading
def last_sms_id(db: Database) -> int | None:
    """The id of the newest row of the ``sms`` table (``None`` when empty)."""
    last = db.execute(select(func.max(sms.c.id))).scalar()
    return None if last is None else int(last)


@reading
def unsettled_like(db: Database, record: SmsRecord) -> list[SmsRecord]:
    """Other sends of the same text to the same number whose outcome is not recorded either."""
    return _records(
        db,
        select(sms)
        .where(
            sms.c.recipient == record.recipient,
            sms.c.text == record.text,
            sms.c.id != record.id,
            UNSETTLED,
        )
        .order_by(sms.c.id),
    )


@reading
def last_message_id_before(db: Database, moment: datetime) -> int | None:
    """The highest Mobizon message id the bot recorded as sent before ``moment``.

    Mobizon numbers messages in order, so a message created after ``moment`` has a higher id:
    a lower bound when looking an SMS up after the fact.
    """
    last = db.execute(
        select(func.max(sms.c.message_id)).where(sms.c.sent_at < utc_text(moment))
    ).scalar()
    return None if last is None else int(last)


@reading
def highest_ids(db: Database) -> tuple[int | None, int | None]:
    """The highest Mobizon message id and campaign id recorded, whatever the mode (``None``: none).

    A sandbox simulator starts its ids above them, so a new run never reuses an earlier one's.
    """
    row = db.execute(select(func.max(sms.c.message_id), func.max(sms.c.campaign_id))).one()
    return (
        None if row[0] is None else int(row[0]),
        None if row[1] is None else int(row[1]),
    )


@reading
def pending_sandbox(db: Database) -> list[SmsRecord]:
    """SMS sent to a sandbox simulator and still awaiting a final status, oldest first."""
    return _records(
        db,
        select(sms)
        .where(PENDING, sms.c.sandbox.is_(True), sms.c.message_id.is_not(None))
        .order_by(sms.c.id),
    )


class PendingStatus(NamedTuple):
    """What the poller needs of a pending SMS: its Mobizon id and the status last recorded."""

    message_id: int
    status: str | None
    status_ts: str | None


def _mode(sandbox: bool | None) -> ColumnElement[bool]:
    """Only the SMS sent in that mode (``sandbox`` set), else every SMS."""
    if sandbox is None:
        return ~false()
    return sms.c.sandbox.is_(sandbox)


#: What every poll cycle reads, built once: the wall time and the mode are parameters.
_PENDING_STATUSES = (
    select(sms.c.message_id, sms.c.status, sms.c.status_ts)
    .where(
        PENDING,
        or_(sms.c.deferred_to.is_(None), sms.c.deferred_to <= bindparam("wall_now")),
        or_(bindparam("any_mode") == true(), sms.c.sandbox == bindparam("mode")),
    )
    .order_by(sms.c.id)
)


@reading
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
        _PENDING_STATUSES,
        {"wall_now": _local_wall_text(local_now), "any_mode": sandbox is None, "mode": sandbox},
    ).all()
    return [PendingStatus(int(row[0]), row[1], row[2]) for row in rows]


@reading
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
    # to the second, as the times are stored
    wall_now = (local_now if local_now is not None else now.astimezone()).replace(
        tzinfo=None, microsecond=0
    )
    utc_now = now.replace(microsecond=0)
    # the deadline is per row (its validity, its kind of time): judged here, over the few
    # columns of the pending rows, the same way on every engine
    late: list[int] = []
    rows = db.execute(
        select(sms.c.id, sms.c.sent_at, sms.c.deferred_to, sms.c.validity)
        .where(PENDING)
        .order_by(sms.c.id)
    )
    for sms_id, sent_at, deferred_to, validity in rows:
        allowed = timedelta(minutes=validity or DEFAULT_VALIDITY_MINUTES) + grace
        if deferred_to is not None:
            start = datetime.strptime(deferred_to, MOBIZON_TS_FORMAT)  # noqa: DTZ007  # a wall time
            if start + allowed < wall_now:
                late.append(sms_id)
        elif sent_at is not None and datetime.fromisoformat(sent_at) + allowed < utc_now:
            late.append(sms_id)
    found: list[SmsRecord] = []
    for chunk in chunks(late):
        found.extend(_records(db, select(sms).where(sms.c.id.in_(chunk)).order_by(sms.c.id)))
    return found


@reading
def count_by_state(db: Database) -> dict[str, int]:
    """How many SMS are in each :class:`SendState` (every state present, zero when none)."""
    found: dict[str, int] = dict(
        db.execute(select(sms.c.state, func.count()).group_by(sms.c.state)).all()
    )
    return {state.value: int(found.get(state.value, 0)) for state in SendState}


@reading
def count_pending(db: Database) -> int:
    """How many sent SMS still await a final status (deferred ones included)."""
    return int(db.execute(select(func.count()).select_from(sms).where(PENDING)).scalar_one())


def _local_wall_text(local_now: datetime | None) -> str:
    moment = datetime.now(UTC).astimezone() if local_now is None else local_now
    return wall_text(moment)
