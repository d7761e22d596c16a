"""The opt-out list (table ``optouts``): numbers that asked not to get SMS.

A number is international digits without ``+`` (``5511987654321``), as ``sms.recipient`` holds
it, so a send's recipient is looked up as it is. The list is the account's, not a workspace's:
whoever asked not to get SMS gets none from any channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import chunks, dialect_insert, reading, transactional
from storage.schema import utc_text
from storage.tables import optouts

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@dataclass(frozen=True, slots=True)
class OptOut:
    """One number on the list; ``added_by`` is the Slack user who added it, ``added_at`` when."""

    recipient: str
    added_by: str
    added_at: str


@dataclass(frozen=True, slots=True)
class OptOutPage:
    """Some of the list, by number, and how many numbers the whole list holds."""

    entries: tuple[OptOut, ...]
    total: int


_COLUMNS = (optouts.c.recipient, optouts.c.added_by, optouts.c.added_at)


@transactional
def add_optout(db: Database, *, recipient: str, user_id: str, now: datetime | None = None) -> bool:
    """Put ``recipient`` on the list; ``False`` (nothing changed) when it is on it already."""
    inserted = db.execute(
        dialect_insert(db, optouts)
        .values(recipient=recipient, added_by=user_id, added_at=utc_text(now))
        .on_conflict_do_nothing(index_elements=["recipient"])
        .returning(optouts.c.recipient)
    ).scalar()
    return inserted is not None


@transactional
def remove_optout(db: Database, *, recipient: str) -> bool:
    """Take ``recipient`` off the list; ``False`` when it was not on it."""
    removed = db.execute(sa.delete(optouts).where(optouts.c.recipient == recipient)).rowcount
    return removed > 0


@reading
def is_opted_out(db: Database, recipient: str) -> bool:
    """Whether ``recipient`` is on the list."""
    found = db.execute(sa.select(optouts.c.recipient).where(optouts.c.recipient == recipient))
    return found.first() is not None


#: Which of some numbers are on the list: built once (every claim asks it, in its transaction).
_LISTED = sa.select(optouts.c.recipient).where(
    optouts.c.recipient.in_(sa.bindparam("recipients", expanding=True))
)


@reading
def opted_out_among(db: Database, recipients: Iterable[str]) -> set[str]:
    """Those of ``recipients`` on the list (asked in bounded batches, however many)."""
    found: set[str] = set()
    for batch in chunks(recipients):
        found.update(db.execute(_LISTED, {"recipients": batch}).scalars())
    return found


@reading
def optout_page(db: Database, *, offset: int, limit: int) -> OptOutPage:
    """``limit`` numbers of the list from ``offset``, in the order of their digits."""
    total = db.execute(sa.select(sa.func.count()).select_from(optouts)).scalar_one()
    rows = db.execute(
        sa.select(*_COLUMNS).order_by(optouts.c.recipient).offset(offset).limit(limit)
    )
    return OptOutPage(tuple(OptOut(*row) for row in rows), int(total))
