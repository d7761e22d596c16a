"""Pending SMS shared between replicas: each is polled by one live replica at a time.

The first replica to find a pending SMS with no live poller takes it and keeps it while its
heartbeat holds (:mod:`storage.replicas`); a steady poll cycle only reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, or_, select, update

from storage.engine import reading, transactional
from storage.messages import _PENDING_STATUSES, PendingStatus, _local_wall_text
from storage.replicas import live_ids
from storage.tables import PENDING, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@reading
def unclaimed_pending(db: Database, *, live_cutoff: str) -> bool:
    """Whether some pending SMS has no live poller (:func:`claim_pending_statuses` would take it).

    A read: in the steady state every pending SMS has its live poller, and a poll cycle then
    writes nothing.
    """
    return (
        db.execute(
            select(sms.c.id)
            .where(
                PENDING,
                or_(sms.c.polled_by.is_(None), sms.c.polled_by.not_in(live_ids(live_cutoff))),
            )
            .limit(1)
        ).first()
        is not None
    )


@reading
def polled_statuses(
    db: Database, *, replica: str, local_now: datetime | None = None, sandbox: bool | None = None
) -> list[PendingStatus]:
    """:func:`pending_statuses` of the SMS ``replica`` polls (those it took), without a write."""
    rows = db.execute(
        _PENDING_STATUSES.where(sms.c.polled_by == bindparam("replica")),
        {
            "wall_now": _local_wall_text(local_now),
            "any_mode": sandbox is None,
            "mode": sandbox,
            "replica": replica,
        },
    ).all()
    return [PendingStatus(int(row[0]), row[1], row[2]) for row in rows]


@transactional
def claim_pending_statuses(
    db: Database,
    *,
    replica: str,
    live_cutoff: str,
    local_now: datetime | None = None,
    sandbox: bool | None = None,
) -> list[PendingStatus]:
    """:func:`pending_statuses`, shared between replicas: those this replica polls.

    A pending SMS is polled by one replica: the first to find it with no live poller takes it
    (rows another replica is taking at the same moment are skipped, ``FOR UPDATE SKIP LOCKED``
    on PostgreSQL), and keeps it while its heartbeat holds. So two replicas never ask about the
    same SMS, and when one is gone the other polls all of them.
    """
    free = (
        select(sms.c.id)
        .where(
            PENDING,
            or_(sms.c.polled_by.is_(None), sms.c.polled_by.not_in(live_ids(live_cutoff))),
        )
        .with_for_update(skip_locked=True)
    )
    db.execute(update(sms).where(sms.c.id.in_(free.scalar_subquery())).values(polled_by=replica))
    return polled_statuses(db, replica=replica, local_now=local_now, sandbox=sandbox)
