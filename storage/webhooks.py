"""Mobizon's webhook events: each ``eventId`` applied once, remembered for a while.

:func:`apply_webhook_event` records the event and applies its status
(:func:`storage.delivery.apply_status`) in one transaction, so a retry of an applied event
changes nothing and a crash before the commit loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage import tables
from storage.delivery import AppliedUpdate, StatusUpdate, apply_status
from storage.engine import dialect_insert, reading, transactional
from storage.schema import utc_text

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@transactional
def record_webhook_event(db: Database, event_id: int, *, now: datetime | None = None) -> bool:
    """Remember a Mobizon webhook ``eventId``; ``False`` when it was seen before (a retry)."""
    inserted = db.execute(
        dialect_insert(db, tables.webhook_events)
        .values(event_id=event_id, received_at=utc_text(now))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(tables.webhook_events.c.event_id)
    ).scalar()
    return inserted is not None


@transactional
def apply_webhook_event(
    db: Database,
    event_id: int,
    update: StatusUpdate,
    *,
    now: datetime | None = None,
    received_at: datetime | None = None,
    sandbox: bool | None = None,
) -> tuple[bool, AppliedUpdate | None]:
    """Record a webhook ``eventId`` and apply its status in one transaction.

    Returns ``(first_time, applied)``: ``(False, None)`` for an event seen before (Mobizon's
    retry), ``(True, None)`` for a new event that changed nothing (unknown SMS, stale status).
    A crash leaves neither the event nor the status written, so Mobizon's retry applies it.
    ``received_at`` (default ``now``) is the time the event id is remembered from: what
    :func:`prune_webhook_events` counts from.
    """
    if not record_webhook_event(db, event_id, now=received_at or now):
        return False, None
    return True, apply_status(db, update, now=now, sandbox=sandbox)


@reading
def webhook_event_seen(db: Database, event_id: int) -> bool:
    """Whether a Mobizon webhook ``eventId`` was already recorded."""
    events = tables.webhook_events
    return (
        db.execute(sa.select(events.c.event_id).where(events.c.event_id == event_id)).first()
        is not None
    )


@transactional
def prune_webhook_events(
    db: Database, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Forget webhook events received more than ``older_than`` ago; returns how many."""
    cutoff = utc_text((now or datetime.now(UTC)) - older_than)
    events = tables.webhook_events
    return db.execute(sa.delete(events).where(events.c.received_at < cutoff)).rowcount
