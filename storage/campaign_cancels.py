"""Cancelling a scheduled send to many: its SMS found by the Mobizon campaign id, then recorded.

``/sms cancel ID`` takes a campaign's Mobizon id as it takes an SMS's: when no SMS has the id as
its message id, the campaign whose Mobizon id it is is cancelled as a whole. Its first SMS (the
lowest row) stands for it: the cancel's rules are read from it and its claim is taken on it
(:func:`storage.account.claim_cancel`), so one cancel at a time asks Mobizon.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage import delivery, messages
from storage.engine import reading, transactional
from storage.records import SmsRecord
from storage.status import DeliveryStatus
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@reading
def campaign_lead(db: Database, mobizon_id: int) -> SmsRecord | None:
    """The first SMS of the send to many whose Mobizon campaign is ``mobizon_id``; ``None``."""
    first = db.execute(
        sa.select(sa.func.min(sms_table.c.id)).where(
            sms_table.c.campaign_id == mobizon_id,
            sms_table.c.campaign.is_not(None),
            sms_table.c.message_id.is_not(None),
        )
    ).scalar()
    if first is None:
        return None
    return messages.get_sms(db, int(first))


@reading
def campaign_size(db: Database, mobizon_id: int) -> int:
    """How many SMS the send to many of Mobizon campaign ``mobizon_id`` holds."""
    return int(
        db.execute(
            sa.select(sa.func.count()).where(
                sms_table.c.campaign_id == mobizon_id,
                sms_table.c.campaign.is_not(None),
                sms_table.c.message_id.is_not(None),
            )
        ).scalar()
        or 0
    )


@transactional
def record_campaign_cancelled(
    db: Database, mobizon_id: int, user_id: str, *, now: datetime | None = None
) -> int:
    """Record that ``user_id`` cancelled the send to many of Mobizon campaign ``mobizon_id``.

    Every SMS of it not final yet becomes DELETED through the one status writer, marked
    cancelled by ``user_id`` (its campaign's message shows them so); the cancel's claim ends.
    Returns how many SMS it cancelled.
    """
    moment = now or datetime.now(UTC)
    ours = sa.and_(
        sms_table.c.campaign_id == mobizon_id,
        sms_table.c.campaign.is_not(None),
        sms_table.c.message_id.is_not(None),
    )
    ids = [
        int(row.message_id)
        for row in db.execute(
            sa.select(sms_table.c.message_id).where(ours, sms_table.c.final_at.is_(None))
        )
    ]
    db.execute(
        sa.update(sms_table)
        .where(ours)
        .values(cancelled_by=user_id, cancelling_by=None, cancelling_at=None)
    )
    changed = delivery.apply_statuses(
        db,
        [
            delivery.StatusUpdate(message_id, DeliveryStatus.DELETED, None, source="command")
            for message_id in ids
        ],
        now=moment,
    )
    return len(set(changed))
