"""Pending SMS shared between replicas: each is polled by one live replica at a time.

A replica polls the pending SMS it took, and keeps them while its heartbeat holds
(:mod:`storage.replicas`). It takes about its share: the pending SMS divided by the live
replicas, rounded up. It takes those with no live poller up to its share, and lets go of what
it holds beyond its share (another replica takes them in its next cycle, so none is asked
twice in one interval). A replica alone, or the last one live, polls every pending SMS. A
steady poll cycle only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, or_, select, update

from storage.engine import reading, transactional
from storage.messages import _PENDING_STATUSES, PendingStatus, _local_wall_text
from storage.replicas import fair_share, live_ids
from storage.tables import PENDING, sms

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy import Connection as Database


@dataclass(frozen=True, slots=True)
class PollShare:
    """How the pending SMS stand for one replica: all of them, its own, and those unheld."""

    pending: int
    mine: int
    unheld: int
    live: int

    @property
    def share(self) -> int:
        """How many the replica polls: the pending SMS over the live replicas, rounded up."""
        return fair_share(self.pending, self.live)

    @property
    def to_take(self) -> int:
        """How many unheld SMS it takes now."""
        return min(self.unheld, max(0, self.share - self.mine))

    @property
    def to_let_go(self) -> int:
        """How many of its own it lets go of now."""
        return max(0, self.mine - self.share)


def _unheld(live_cutoff: str) -> ColumnElement[bool]:
    """Pending SMS no live replica polls: never taken, let go, or their poller's lease ran out."""
    return or_(sms.c.polled_by.is_(None), sms.c.polled_by.not_in(live_ids(live_cutoff)))


@reading
def poll_share(db: Database, *, replica: str, live_cutoff: str) -> PollShare:
    """Where ``replica`` stands among the live replicas' pollers (a read)."""
    mine = func.count().filter(sms.c.polled_by == replica)
    unheld = func.count().filter(_unheld(live_cutoff))
    pending, own, free = db.execute(select(func.count(), mine, unheld).where(PENDING)).one()
    live = db.execute(select(func.count()).select_from(live_ids(live_cutoff).subquery())).scalar()
    return PollShare(int(pending), int(own), int(free), int(live or 0))


@reading
def poll_share_would_change(db: Database, *, replica: str, live_cutoff: str) -> bool:
    """Whether :func:`claim_pending_statuses` would take or let go of a pending SMS.

    A read: in the steady state every pending SMS has its live poller, each replica holds its
    share, and a poll cycle then writes nothing.
    """
    share = poll_share(db, replica=replica, live_cutoff=live_cutoff)
    return share.to_take > 0 or share.to_let_go > 0


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

    A pending SMS is polled by one replica. A replica takes those with no live poller, oldest
    first, up to its share (rows another replica is taking at the same moment are skipped,
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and lets go of its newest beyond its share. So
    two replicas never ask about the same SMS, they ask about about as many each, and when one
    is gone the others poll all of them.
    """
    share = poll_share(db, replica=replica, live_cutoff=live_cutoff)
    if share.to_let_go:
        newest = (
            select(sms.c.id)
            .where(PENDING, sms.c.polled_by == replica)
            .order_by(sms.c.id.desc())
            .limit(share.to_let_go)
        )
        db.execute(update(sms).where(sms.c.id.in_(newest.scalar_subquery())).values(polled_by=None))
    elif share.to_take:
        free = (
            select(sms.c.id)
            .where(PENDING, _unheld(live_cutoff))
            .order_by(sms.c.id)
            .limit(share.to_take)
            .with_for_update(skip_locked=True)
        )
        db.execute(
            update(sms).where(sms.c.id.in_(free.scalar_subquery())).values(polled_by=replica)
        )
    return polled_statuses(db, replica=replica, local_now=local_now, sandbox=sandbox)
