"""Account-level records: cancelled SMS, the SMS whose cost is asked, and kept account state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage import delivery
from storage.campaign_records import SegmentCost
from storage.delivery import AppliedUpdate, StatusUpdate, apply_status
from storage.engine import chunks, dialect_insert, reading, transactional
from storage.outbox import NotificationKind
from storage.outbox_queue import queue_notification
from storage.schema import utc_ms_text, utc_text
from storage.status import DeliveryStatus
from storage.tables import PENDING, account_state, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: Lookups of an SMS's cost before giving up on it (Mobizon states none).
MAX_COST_ASKS = 3

#: How long a cancel's claim holds: longer than any Mobizon call, so only the claim of a process
#: that died while cancelling is ever taken over.
CANCEL_CLAIM_LIFETIME = timedelta(minutes=2)

#: ``account_state`` key of the low-balance alert: ``"low"`` while raised, ``"ok"`` otherwise.
LOW_BALANCE_KEY = "low_balance"


@transactional
def claim_cancel(
    db: Database, message_id: int, user_id: str, *, now: datetime | None = None
) -> bool:
    """Let ``user_id`` alone ask Mobizon to cancel SMS ``message_id``; False when not granted.

    Not granted while another cancel holds a live claim, or once the SMS is cancelled or final:
    the caller reads the SMS again to say who cancelled it, or is cancelling it.
    """
    moment = now or datetime.now(UTC)
    expired = utc_ms_text(moment - CANCEL_CLAIM_LIFETIME)
    claimed = db.execute(
        sa.update(sms)
        .where(
            sms.c.message_id == message_id,
            sms.c.cancelled_by.is_(None),
            sms.c.final_at.is_(None),
            sa.or_(sms.c.cancelling_by.is_(None), sms.c.cancelling_at < expired),
        )
        .values(cancelling_by=user_id, cancelling_at=utc_ms_text(moment))
    ).rowcount
    return bool(claimed)


@transactional
def release_cancel(db: Database, message_id: int, user_id: str) -> None:
    """Give up ``user_id``'s claim on cancelling ``message_id`` (Mobizon did not cancel it)."""
    db.execute(
        sa.update(sms)
        .where(sms.c.message_id == message_id, sms.c.cancelling_by == user_id)
        .values(cancelling_by=None, cancelling_at=None)
    )


@transactional
def record_cancelled(
    db: Database, message_id: int, user_id: str, *, now: datetime | None = None
) -> AppliedUpdate | None:
    """Record that ``user_id`` cancelled SMS ``message_id``: tracking stops, the post is edited.

    The SMS becomes DELETED through :func:`~storage.delivery.apply_status`, so its post is
    edited and its thread answered through the outbox, like any final status (restart-safe).
    The cancel's claim ends with it.
    """
    moment = now or datetime.now(UTC)
    db.execute(
        sa.update(sms)
        .where(sms.c.message_id == message_id)
        .values(cancelled_by=user_id, cancelling_by=None, cancelling_at=None)
    )
    return apply_status(
        db,
        StatusUpdate(message_id, DeliveryStatus.DELETED, None, source="command"),
        now=moment,
    )


#: Sent with a Mobizon id and campaign id: an SMS whose campaign can be asked about.
_AT_MOBIZON = sa.and_(
    sms.c.state == "sent", sms.c.message_id.is_not(None), sms.c.campaign_id.is_not(None)
)


def _mode(sandbox: bool | None) -> sa.ColumnElement[bool]:
    return sa.true() if sandbox is None else sms.c.sandbox.is_(sandbox)


@reading
def sent_campaigns_since(db: Database, since: datetime) -> dict[int, int]:
    """The SMS smsbot sent from ``since`` on, not cancelled nor declined: message → campaign."""
    rows = db.execute(
        sa.select(sms.c.message_id, sms.c.campaign_id).where(
            _AT_MOBIZON,
            sms.c.sent_at >= utc_text(since),
            # cancelled and declined SMS were never sent, and Mobizon gave their cost back
            sms.c.cancelled_by.is_(None),
            sa.or_(sms.c.moderation.is_(None), sms.c.moderation != "declined"),
        )
    )
    return {int(message): int(campaign) for message, campaign in rows}


@reading
def known_costs(db: Database, message_ids: list[int]) -> dict[int, Decimal]:
    """The costs already kept for ``message_ids`` (those with one)."""
    found: dict[int, Decimal] = {}
    for chunk in chunks(message_ids):
        rows = db.execute(
            sa.select(sms.c.message_id, sms.c.cost).where(
                sms.c.cost.is_not(None), sms.c.message_id.in_(chunk)
            )
        )
        found.update({int(message): Decimal(cost) for message, cost in rows})
    return found


@reading
def get_state(db: Database, key: str) -> str | None:
    """The kept value of ``key``, or ``None``."""
    value = db.execute(sa.select(account_state.c.value).where(account_state.c.key == key)).scalar()
    return None if value is None else str(value)


@transactional
def set_state(db: Database, key: str, value: str, *, now: datetime | None = None) -> None:
    """Keep ``value`` for ``key`` across restarts."""
    insert = dialect_insert(db, account_state).values(
        key=key, value=value, updated_at=utc_text(now)
    )
    db.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )


@reading
def awaiting_moderation(db: Database, *, sandbox: bool | None = None) -> dict[int, list[int]]:
    """Tracked SMS sent awaiting moderation with no decision yet: campaign id → message ids."""
    rows = db.execute(
        sa.select(sms.c.campaign_id, sms.c.message_id)
        .where(
            PENDING,
            _AT_MOBIZON,
            sms.c.campaign_status == 1,
            sms.c.moderation.is_(None),
            _mode(sandbox),
        )
        .order_by(sms.c.id)
    )
    found: dict[int, list[int]] = {}
    for campaign, message in rows:
        found.setdefault(int(campaign), []).append(int(message))
    return found


@transactional
def record_approved(db: Database, campaign_id: int, *, now: datetime | None = None) -> None:
    """Mobizon's moderators approved ``campaign_id``: its SMS are tracked as usual."""
    db.execute(
        sa.update(sms)
        .where(sms.c.campaign_id == campaign_id, sms.c.moderation.is_(None))
        .values(moderation="approved", updated_at=utc_text(now))
    )


@transactional
def record_declined(
    db: Database, campaign_id: int, comment: str | None, *, now: datetime | None = None
) -> list[int]:
    """Mobizon's moderators declined ``campaign_id``: stop tracking, queue the channel's news.

    Each of its SMS gets one outbox row (edit the post, one thread reply), written in the same
    transaction, so a restart loses nothing. Returns the message ids newly declined.
    """
    moment = now or datetime.now(UTC)
    declined: list[int] = []
    rows = db.execute(
        sa.select(sms.c.id, sms.c.message_id).where(
            sms.c.campaign_id == campaign_id,
            sms.c.moderation.is_(None),
            PENDING,
            sms.c.message_id.is_not(None),
        )
    ).all()
    for sms_id, message_id in rows:
        db.execute(
            sa.update(sms)
            .where(sms.c.id == sms_id)
            .values(moderation="declined", moderation_comment=comment)
        )
        # tracking stops the way it does for an overdue SMS, under the decline's own name
        stopped = delivery.give_up(db, int(sms_id), now=moment, kind=NotificationKind.DECLINED)
        if stopped is not None:
            declined.append(int(message_id))
    return declined


@reading
def costs_wanted(db: Database, *, limit: int = 100, sandbox: bool | None = None) -> dict[int, int]:
    """Final SMS whose cost is not known yet (and still worth asking): message → campaign id."""
    rows = db.execute(
        sa.select(sms.c.message_id, sms.c.campaign_id)
        .where(
            _AT_MOBIZON,
            sms.c.cost.is_(None),
            sms.c.final_at.is_not(None),
            sms.c.cost_asks < MAX_COST_ASKS,
            sms.c.cancelled_by.is_(None),
            _mode(sandbox),
        )
        .order_by(sms.c.id)
        .limit(limit)
    )
    return {int(message): int(campaign) for message, campaign in rows}


@transactional
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
    for message_id in asked:
        cost = costs.get(message_id)
        if cost is None:
            db.execute(
                sa.update(sms)
                .where(sms.c.message_id == message_id)
                .values(cost_asks=sms.c.cost_asks + 1)
            )
            continue
        changed = db.execute(
            sa.update(sms)
            .where(sms.c.message_id == message_id, sms.c.cost.is_(None))
            .values(
                cost=str(cost), currency=currency, cost_asks=sms.c.cost_asks + 1, updated_at=stamp
            )
        ).rowcount
        if not changed:  # already known (another lookup was first): nothing to edit
            continue
        queue_notification(db, message_id, NotificationKind.COST, moment)
        recorded += 1
    return recorded


#: How many of the latest SMS with a known cost the price of a segment is taken from.
RECENT_COSTS = 50


@reading
def recent_segment_cost(
    db: Database, *, sandbox: bool | None = None, limit: int = RECENT_COSTS
) -> SegmentCost | None:
    """What a segment cost, on average, over the latest SMS whose cost is known.

    Only the SMS in the currency of the latest (``sandbox`` picks the mode's); ``None`` when no
    cost is known yet.
    """
    mode = sa.true() if sandbox is None else sms.c.sandbox.is_(sandbox)
    rows = db.execute(
        sa.select(sms.c.cost, sms.c.currency, sms.c.segments)
        .where(sms.c.cost.is_not(None), sms.c.segments > 0, mode)
        .order_by(sms.c.id.desc())
        .limit(limit)
    ).all()
    if not rows:
        return None
    currency = rows[0].currency
    same = [row for row in rows if row.currency == currency]
    total = sum((Decimal(row.cost) for row in same), Decimal(0))
    segments = sum(int(row.segments) for row in same)
    return SegmentCost(total / segments, currency or "", len(same))
