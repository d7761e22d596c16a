"""Account jobs shared by the replicas on one database: whose turn a job is, and news posted once.

Every replica schedules the same account jobs (the moderation watch, the cost lookup, the balance
check), and each run asks Mobizon. Both records below are rows of ``account_state``.

A **turn** makes one replica run a job per interval: the row ``turn:<job>`` names the replica
that last took it and when (to the millisecond, as the outbox's times), and it is taken with a
compare-and-set. It is taken

- by the replica that holds it, at each of its runs: one process runs the job exactly as its
  timer says, whatever the timer's jitter;
- by any other replica once the holder has not taken it for a whole interval (it died, or its run
  is stuck), or at once when the holder's heartbeat no longer holds (it stopped; on SQLite, the
  process before a restart, so a new process's first run is not delayed).

Two replicas asking at the same moment cannot both take it: the update's condition is checked
again on the row as the other left it (PostgreSQL), or under the write lock (SQLite).

A **change** is a kept value each change of which is posted once (the low-balance alert). The
replica that moves it to another value first claims the change (the value becomes
``posting <value> by <replica>``), posts, then settles it: to the new value once posted, back to
the old one when the post failed, so the next check tries again. Another replica that finds the
claim of a live replica leaves it alone; a claim whose replica is no longer live is taken again
(its post may not have been made, as before replicas after a restart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import dialect_insert, reading, transactional
from storage.replicas import live_ids
from storage.schema import utc_ms_text, utc_text
from storage.tables import account_state, replicas

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: The key of a job's turn is this prefix and the job's name.
TURN_PREFIX = "turn:"

_POSTING = "posting "
_BY = " by "


def turn_key(job: str) -> str:
    """The ``account_state`` key of ``job``'s turn."""
    return TURN_PREFIX + job


def _takeable(
    replica: str, every: timedelta, live_cutoff: str, now: datetime
) -> sa.ColumnElement[bool]:
    """The turn may go to ``replica``: its own, a whole interval old, or its holder gone."""
    return sa.or_(
        account_state.c.value == replica,
        account_state.c.updated_at <= utc_ms_text(now - every),
        account_state.c.value.not_in(live_ids(live_cutoff)),
    )


@reading
def turn_open(
    db: Database,
    job: str,
    *,
    replica: str,
    every: timedelta,
    live_cutoff: str,
    now: datetime | None = None,
) -> bool:
    """Whether :func:`take_turn` could give ``replica`` the turn now (a read: no lock taken).

    A replica whose turn it is not finds it out without a write.
    """
    moment = now or datetime.now(UTC)
    row = db.execute(
        sa.select(_takeable(replica, every, live_cutoff, moment)).where(
            account_state.c.key == turn_key(job)
        )
    ).first()
    return row is None or bool(row[0])


@transactional
def take_turn(
    db: Database,
    job: str,
    *,
    replica: str,
    every: timedelta,
    live_cutoff: str,
    now: datetime | None = None,
) -> bool:
    """Take ``job``'s turn for ``replica`` (``every`` apart); True when it runs the job now.

    The first turn of a job inserts its row; a later one is a compare-and-set on it.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_ms_text(moment)
    key = turn_key(job)
    if _insert(db, key, replica, stamp):
        return True
    taken = db.execute(
        sa.update(account_state)
        .where(account_state.c.key == key, _takeable(replica, every, live_cutoff, moment))
        .values(value=replica, updated_at=stamp)
    ).rowcount
    return bool(taken)


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept value as stored: settled, or a change of it being posted by a replica."""

    #: The text stored (``None``: nothing kept yet); a claim is taken from exactly this text.
    stored: str | None
    #: The value a replica is posting a change to; ``None`` when settled.
    posting: str | None = None
    #: The replica posting it.
    by: str | None = None
    #: Whether that replica's heartbeat holds.
    by_live: bool = False

    @property
    def value(self) -> str | None:
        """The settled value; ``None`` while a change is being posted, or when none is kept."""
        return None if self.posting is not None else self.stored


def _claim_text(value: str, replica: str) -> str:
    return f"{_POSTING}{value}{_BY}{replica}"


@reading
def kept_value(db: Database, key: str, *, live_cutoff: str) -> Kept:
    """``key``'s kept value, and whether the replica posting a change of it is live."""
    stored = db.execute(sa.select(account_state.c.value).where(account_state.c.key == key)).scalar()
    if stored is None or not str(stored).startswith(_POSTING):
        return Kept(None if stored is None else str(stored))
    posting, _, by = str(stored).removeprefix(_POSTING).partition(_BY)
    live = db.execute(
        sa.select(replicas.c.id).where(replicas.c.id == by, replicas.c.heartbeat_at >= live_cutoff)
    ).first()
    return Kept(str(stored), posting, by, live is not None)


@transactional
def claim_change(
    db: Database,
    key: str,
    value: str,
    *,
    seen: str | None,
    replica: str,
    now: datetime | None = None,
) -> bool:
    """Claim posting the change of ``key`` to ``value`` for ``replica``; False when not to post.

    Taken only while ``key`` still holds ``seen`` (:attr:`Kept.stored`, ``None``: nothing kept):
    of replicas that saw the same value, one claims the change.
    """
    claim = _claim_text(value, replica)
    stamp = utc_text(now)
    if seen is None:
        return _insert(db, key, claim, stamp)
    return _swap(db, key, seen, claim, stamp)


@transactional
def settle_change(
    db: Database,
    key: str,
    value: str,
    *,
    posting: str,
    replica: str,
    now: datetime | None = None,
) -> bool:
    """End ``replica``'s claim on posting ``key``'s change to ``posting``: ``key`` keeps ``value``.

    ``value`` is ``posting`` once posted, the old value when the post failed. False when the
    claim is no longer ``replica``'s (taken for dead, another replica took it over).
    """
    return _swap(db, key, _claim_text(posting, replica), value, utc_text(now))


def _insert(db: Database, key: str, value: str, stamp: str) -> bool:
    """Keep ``value`` for ``key`` unless ``key`` is kept already; True when inserted."""
    inserted = db.execute(
        dialect_insert(db, account_state)
        .values(key=key, value=value, updated_at=stamp)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(account_state.c.key)
    ).scalar()
    return inserted is not None


def _swap(db: Database, key: str, old: str, new: str, stamp: str) -> bool:
    changed = db.execute(
        sa.update(account_state)
        .where(account_state.c.key == key, account_state.c.value == old)
        .values(value=new, updated_at=stamp)
    ).rowcount
    return bool(changed)
