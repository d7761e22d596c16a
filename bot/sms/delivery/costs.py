"""The cost lookup: once an SMS is final, ask Mobizon what it cost and show it on its post.

Each poll cycle asks ``message/list`` about the campaigns of up to 100 final SMS whose cost is
not known (``segUserBuy``), through :func:`bot.sms.sending.costs.stated_costs`; the account's
currency comes from ``user/getownbalance`` once.
An SMS whose cost Mobizon does not state is asked about a few times, then left. With a
:class:`~bot.sms.delivery.turns.Turn`, one replica asks per cycle, not each of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.mobizon import MobizonError, SmsGateway
from bot.sms.delivery.turns import Turn
from bot.sms.sending.costs import stated_costs
from storage import account
from storage.store import Store

logger = logging.getLogger(__name__)

#: SMS whose cost is asked per cycle (one ``message/list`` page).
BATCH = 100


class CostLookup:
    """One lookup of the costs not known yet per call of :meth:`run_once`."""

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_change: Callable[[], None] | None = None,
        sandbox: bool | None = None,
        turn: Turn | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._on_change = on_change
        self._sandbox = sandbox
        self._currency: str | None = None
        self._currency_known = False
        self._turn = turn

    async def run_once(self) -> int:
        """Ask about the final SMS whose cost is unknown; return how many costs were recorded."""
        wanted = await self._store.read(account.costs_wanted, limit=BATCH, sandbox=self._sandbox)
        if not wanted or (self._turn is not None and not await self._turn.take()):
            return 0  # nothing to ask about, or another replica asks this cycle
        try:
            if not self._currency_known:
                self._currency = (await self._gateway.get_balance()).currency
                self._currency_known = True
            costs = await stated_costs(self._gateway, wanted)
        except MobizonError as err:
            logger.warning("cost lookup failed", extra={"error": str(err)})
            return 0
        recorded = await self._store.write(
            account.record_costs, list(wanted), costs, self._currency, now=self._clock()
        )
        if recorded and self._on_change is not None:
            self._on_change()
        return recorded
