"""A campaign's CSV of the recipients not reached, owed in its summary's thread until uploaded.

The summary is recorded with the CSV owed in one write
(:func:`storage.campaign_reports.record_summary`), so whichever replica runs the reporter next
uploads it, even when the one that posted the summary is gone. A replica takes an owed CSV by
putting ``csv_due_at`` off by a lease (a compare-and-set: one replica uploads it); it is then
:func:`uploaded`, or put off when Slack would not take it. A replica that dies mid-upload
leaves it due again once its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import transactional
from storage.schema import utc_ms_text
from storage.tables import campaigns

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: How long a replica holds an owed CSV it took: longer than an upload takes.
CSV_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class OwedCsv:
    """A campaign whose CSV this replica took: where its summary's thread is."""

    campaign_id: int
    channel: str
    thread_ts: str


@transactional
def take_owed_csvs(db: Database, *, now: datetime, limit: int = 10) -> list[OwedCsv]:
    """The owed CSVs due at ``now``, each taken for :data:`CSV_LEASE` (by this replica only)."""
    stamp = utc_ms_text(now)
    rows = db.execute(
        sa.select(campaigns.c.id, campaigns.c.csv_due_at, campaigns.c.slack_channel)
        .add_columns(campaigns.c.slack_ts)
        .where(campaigns.c.csv_due_at.is_not(None), campaigns.c.csv_due_at <= stamp)
        .order_by(campaigns.c.csv_due_at, campaigns.c.id)
        .limit(limit)
    ).all()
    taken: list[OwedCsv] = []
    lease = utc_ms_text(now + CSV_LEASE)
    for row in rows:
        won = db.execute(
            sa.update(campaigns)
            .where(campaigns.c.id == row.id, campaigns.c.csv_due_at == row.csv_due_at)
            .values(csv_due_at=lease)
        ).rowcount
        if won and row.slack_channel and row.slack_ts:
            taken.append(OwedCsv(int(row.id), str(row.slack_channel), str(row.slack_ts)))
    return taken


@transactional
def uploaded(db: Database, campaign_id: int) -> None:
    """Slack took the campaign's CSV: nothing more is owed."""
    db.execute(sa.update(campaigns).where(campaigns.c.id == campaign_id).values(csv_due_at=None))


@transactional
def put_off(db: Database, campaign_id: int, *, until: datetime) -> None:
    """Slack did not take the CSV: owed again from ``until``."""
    db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.csv_due_at.is_not(None))
        .values(csv_due_at=utc_ms_text(until))
    )
