"""An account job's turn among the replicas: one of them runs it per interval.

Each replica schedules the same account jobs; before a run asks Mobizon, the job takes its turn
(:mod:`storage.turns`). The replica that holds the turn keeps it at each of its runs; another
takes it once the holder has let a whole interval pass, or has stopped. One process alone
always has the turn, so it runs as it did before replicas.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage import replicas, turns
from storage.store import Store


class Turn:
    """``job``'s turn for ``replica``, runs ``every`` apart: :meth:`take` before each run."""

    def __init__(
        self,
        store: Store,
        job: str,
        *,
        replica: str,
        every: timedelta,
        lease: timedelta = replicas.LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self.job = job
        self._replica = replica
        self._every = every
        self.lease = lease
        self._clock = clock

    async def take(self) -> bool:
        """True when this replica runs the job now; another's turn is found out by a read."""
        now = self._clock()
        cutoff = replicas.lease_cutoff(now, self.lease)
        mine = self._replica
        if not await self._store.read(
            turns.turn_open, self.job, replica=mine, every=self._every, live_cutoff=cutoff, now=now
        ):
            return False
        return await self._store.write(
            turns.take_turn, self.job, replica=mine, every=self._every, live_cutoff=cutoff, now=now
        )
