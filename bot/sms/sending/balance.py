"""``/sms balance``'s work: the account's balance, and what smsbot's SMS cost today and in 7 days.

Costs already kept are counted as they are; the others are asked of Mobizon
(:func:`bot.sms.sending.costs.stated_costs`), and those of final SMS are kept, their posts edited,
as the cost lookup of delivery tracking would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

from bot.mobizon import DEFAULT_TIMEOUTS, Balance, MobizonError, MobizonTimeoutError, SmsGateway
from bot.sms.sending.costs import stated_costs
from storage import account, messages
from storage.store import Store

logger = logging.getLogger(__name__)

#: How long ``/sms balance`` waits for Mobizon in all: one call's deadline, though the costs may
#: take several calls; past it the balance is answered without them.
BALANCE_WITHIN = DEFAULT_TIMEOUTS.deadline


@dataclass(frozen=True, slots=True)
class BalanceUnknown:
    """Mobizon did not state the balance: ``error`` says why."""

    error: MobizonError


@dataclass(frozen=True, slots=True)
class BalanceFound:
    """The balance, and the costs of smsbot's SMS since midnight and over 7 days.

    The costs are ``None`` when Mobizon did not state them in time, ``costs_error`` saying why.
    """

    balance: Balance
    today: Decimal | None
    last_week: Decimal | None
    costs_error: MobizonError | None = None


#: What ``/sms balance`` learned.
BalanceOutcome = BalanceUnknown | BalanceFound


class BalanceService:
    """Looks up the balance and the costs of the SMS smsbot sent, keeping the costs it learns.

    ``zone`` is the Mobizon account's (where "today" begins); ``sandbox`` the mode whose SMS the
    gateway answering now knows; ``on_balance`` is told every balance Mobizon states;
    ``wake_notifier`` is told when costs were kept (their posts are to be edited).
    """

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        zone: tzinfo = UTC,
        sandbox: bool = False,
        on_balance: Callable[[Balance], None] | None = None,
        wake_notifier: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._zone = zone
        self._sandbox = sandbox
        self._on_balance = on_balance
        self._wake_notifier = wake_notifier

    async def balance(
        self, *, now: datetime | None = None, within: float | None = None
    ) -> BalanceOutcome:
        """The balance and the costs, within ``within`` seconds (:data:`BALANCE_WITHIN`).

        Costs Mobizon has not stated by then are left out (those stated are still kept).
        """
        within = BALANCE_WITHIN if within is None else within
        until = asyncio.get_running_loop().time() + within
        try:
            found = await self._gateway.get_balance()
        except MobizonError as err:
            return BalanceUnknown(err)
        if self._on_balance is not None:
            self._on_balance(found)
        moment = (now or datetime.now(UTC)).astimezone(self._zone)
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        sent = await self._store.read(account.sent_campaigns_since, moment - timedelta(days=7))
        today_ids = await self._store.read(account.sent_campaigns_since, midnight)
        costs = await self._store.read(account.known_costs, sorted(sent))
        learned: dict[int, Decimal] = {}
        try:
            async with asyncio.timeout_at(until):
                await stated_costs(
                    self._gateway, {i: c for i, c in sent.items() if i not in costs}, into=learned
                )
        except TimeoutError:
            late = MobizonTimeoutError(
                "costs past the answer's deadline", details={"seconds": within}
            )
            await self._keep(learned, found.currency, moment)
            return BalanceFound(found, None, None, late)
        except MobizonError as err:
            await self._keep(learned, found.currency, moment)
            return BalanceFound(found, None, None, err)
        await self._keep(learned, found.currency, moment)
        costs.update(learned)
        today = sum((c for i, c in costs.items() if i in today_ids), Decimal(0))
        return BalanceFound(found, today, sum(costs.values(), Decimal(0)))

    async def _keep(self, learned: dict[int, Decimal], currency: str | None, now: datetime) -> None:
        """Keep the costs learned of final SMS of this mode, as the cost lookup would.

        A database that refuses the write loses nothing: the cost lookup asks again.
        """
        if not learned:
            return
        try:
            records = await self._store.read(messages.get_by_message_ids, sorted(learned))
            final = [
                i for i, sms in records.items() if sms.is_final and sms.sandbox == self._sandbox
            ]
            if not final:
                return
            kept = await self._store.write(account.record_costs, final, learned, currency, now=now)
        except Exception as err:  # noqa: BLE001  # the answer goes on without them
            logger.warning(
                "could not keep the costs /sms balance learned",
                extra={"error": type(err).__name__},
            )
            return
        if kept and self._wake_notifier is not None:
            self._wake_notifier()
