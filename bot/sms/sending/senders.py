"""The account's sender names (``alphaname/list``), cached: refreshed hourly and on demand.

``--from`` is checked against them before sending. When the list cannot be fetched the send is
not blocked: Mobizon itself still refuses a sender it does not know, and a Mobizon hiccup on a
read must not stop SMS from going out (the failure is logged).
"""

from __future__ import annotations

import asyncio
import logging

from bot.mobizon import MobizonError, SmsGateway
from bot.sms.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

#: Seconds a fetched list is trusted.
REFRESH_SECONDS = 3600.0


class SenderNames:
    """The account's sender names, fetched at most once per ``refresh`` seconds.

    One fetch at a time, shared by everyone waiting, and shielded: a caller that stops waiting
    (the compose modal has a deadline) does not cancel it, so its answer still fills the cache.
    """

    def __init__(
        self,
        gateway: SmsGateway,
        *,
        refresh: float = REFRESH_SECONDS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._gateway = gateway
        self._refresh = refresh
        self._clock = clock
        self._names: tuple[str, ...] | None = None
        self._fetched_at = 0.0
        self._fetching: asyncio.Task[tuple[str, ...] | None] | None = None

    async def names(self, *, fresh: bool = False) -> tuple[str, ...] | None:
        """The sender names, from the cache or Mobizon; ``None`` when never fetched.

        ``fresh`` asks Mobizon even when the cache is recent. When Mobizon cannot answer, the
        cached list is kept and returned: a stale list is better than none.
        """
        recent = self._clock.monotonic() - self._fetched_at < self._refresh
        if not fresh and self._names is not None and recent:
            return self._names
        if self._fetching is None:
            self._fetching = asyncio.create_task(self._fetch(), name="alphaname/list")
        return await asyncio.shield(self._fetching)

    async def _fetch(self) -> tuple[str, ...] | None:
        try:
            found = await self._gateway.list_sender_names()
        except MobizonError as err:
            logger.warning("could not fetch the sender names", extra={"error": str(err)})
            return self._names
        else:
            self._names = tuple(s.name for s in found)
            self._fetched_at = self._clock.monotonic()
            return self._names
        finally:
            self._fetching = None

    async def check(self, sender: str) -> tuple[bool | None, tuple[str, ...]]:
        """Whether ``sender`` is a name of the account, and the names.

        ``True`` or ``False``, or ``None`` when the names could not be fetched. A name missing
        from a cached list is looked up once more, fresh: it may be new.
        """
        names = await self.names()
        if names is not None and sender not in names:
            names = await self.names(fresh=True)
        if names is None:
            return None, ()
        return sender in names, names
