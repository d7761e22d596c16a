"""The replicas on one database: each registers, then heartbeats; a silent one is gone.

A replica's claims (the sends it claimed, the SMS whose status it polls, the channels it posts
to) are its own while its heartbeat is fresh; once it is older than the lease, any live replica
takes them over. The lease is :data:`LEASE` unless the operator sets ``SMSBOT_REPLICA_LEASE``;
every function that judges a heartbeat takes it as ``lease``. On SQLite one process owns the
file (:mod:`storage.owner`), so a new process forgets every earlier row at once: those
processes are gone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import reading, transactional
from storage.schema import utc_ms_text
from storage.tables import replicas

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: How long a replica's heartbeat holds its claims by default: three heartbeats, well under the
#: 30 s in which a dead replica's work must be taken over.
LEASE = timedelta(seconds=15)


def heartbeat_every(lease: timedelta = LEASE) -> timedelta:
    """How often a replica says it is alive: a third of its lease (two may be late or lost)."""
    return lease / 3


#: How often a replica says it is alive under the default lease.
HEARTBEAT_EVERY = heartbeat_every(LEASE)


@dataclass(frozen=True, slots=True)
class Replica:
    """One registered process."""

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime


@transactional
def register(
    db: Database,
    replica_id: str,
    *,
    host: str,
    pid: int,
    now: datetime | None = None,
    only_one: bool = False,
) -> None:
    """Record this replica as alive; with ``only_one`` (SQLite), forget every other replica."""
    stamp = utc_ms_text(now)
    if only_one:
        db.execute(sa.delete(replicas).where(replicas.c.id != replica_id))
    db.execute(
        sa.insert(replicas).values(
            id=replica_id, host=host, pid=pid, started_at=stamp, heartbeat_at=stamp
        )
    )


@transactional
def heartbeat(db: Database, replica_id: str, *, now: datetime | None = None) -> bool:
    """Say this replica is still alive; False when its row is gone (it was taken for dead)."""
    changed = db.execute(
        sa.update(replicas).where(replicas.c.id == replica_id).values(heartbeat_at=utc_ms_text(now))
    ).rowcount
    return bool(changed)


@transactional
def deregister(db: Database, replica_id: str) -> None:
    """Remove this replica as it stops: what it polled is taken over at once."""
    db.execute(sa.delete(replicas).where(replicas.c.id == replica_id))


def lease_cutoff(now: datetime | None = None, lease: timedelta = LEASE) -> str:
    """The stored time before which a heartbeat no longer holds its replica's claims."""
    return utc_ms_text((now or datetime.now(UTC)) - lease)


def fair_share(count: int, live: int) -> int:
    """A replica's share of ``count`` pieces of work among ``live`` replicas, rounded up."""
    return math.ceil(count / max(1, live))


def live_ids(cutoff: str) -> sa.Select[tuple[str]]:
    """The ids of the replicas whose heartbeat is at or after ``cutoff`` (a subquery)."""
    return sa.select(replicas.c.id).where(replicas.c.heartbeat_at >= cutoff)


@reading
def live_replicas(
    db: Database, *, now: datetime | None = None, lease: timedelta = LEASE
) -> list[Replica]:
    """The replicas whose heartbeat holds, oldest first."""
    rows = db.execute(
        sa.select(replicas)
        .where(replicas.c.heartbeat_at >= lease_cutoff(now, lease))
        .order_by(replicas.c.started_at)
    )
    return [
        Replica(
            id=row.id,
            host=row.host,
            pid=row.pid,
            started_at=datetime.fromisoformat(row.started_at),
            heartbeat_at=datetime.fromisoformat(row.heartbeat_at),
        )
        for row in rows
    ]
