"""The moderation watch: asks ``campaign/getinfo`` about the SMS awaiting Mobizon's moderators.

Only campaigns sent awaiting moderation (``campaign_status`` 1) with no decision yet are asked
about, once per poll cycle; code 30 (too many requests) makes it skip 1, 2, 4 … cycles. A
declined campaign stops being tracked and its post is edited, with one thread reply, through
the outbox (:func:`storage.account.record_declined`); an approved one is tracked as usual. With
a :class:`~bot.sms.delivery.turns.Turn`, one replica asks per cycle, not each of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.mobizon import (
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonRateLimitedError,
    SmsGateway,
)
from bot.sms.delivery.skipping import CycleSkipper
from bot.sms.delivery.turns import Turn
from storage import account
from storage.store import Store

logger = logging.getLogger(__name__)


class ModerationWatch:
    """One look at the campaigns awaiting moderation per call of :meth:`run_once`."""

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_change: Callable[[], None] | None = None,
        on_declined: Callable[[], None] | None = None,
        sandbox: bool | None = None,
        turn: Turn | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._on_change = on_change
        self._on_declined = on_declined
        self._sandbox = sandbox
        self._skipper = CycleSkipper()
        self._turn = turn

    async def run_once(self) -> int:
        """Ask about every campaign awaiting moderation; return how many SMS were declined."""
        if self._skipper.skip_this_cycle():
            return 0
        waiting = await self._store.read(account.awaiting_moderation, sandbox=self._sandbox)
        if not waiting or (self._turn is not None and not await self._turn.take()):
            return 0  # nothing to ask about, or another replica asks this cycle
        declined = 0
        for campaign_id in waiting:
            try:
                info = await self._gateway.get_campaign_info(campaign_id)
            except (MobizonRateLimitedError, MobizonGatewayError, MobizonNetworkError) as err:
                # Mobizon is busy or unreachable: asking about the next campaign would only wait
                # through the same retries and hold the poll cycle up
                skipped = self._skipper.failed()
                logger.warning(
                    "moderation watch backs off",
                    extra={"skip_cycles": skipped, "error": str(err)},
                )
                break
            except MobizonError as err:  # about this campaign only: ask about the others
                logger.warning("moderation watch failed", extra={"error": str(err)})
                continue
            self._skipper.succeeded()
            if info.declined:
                ids = await self._store.write(
                    account.record_declined, campaign_id, info.global_comment, now=self._clock()
                )
                declined += len(ids)
                if ids and self._on_declined is not None:
                    self._on_declined()
                logger.info("campaign declined by moderation", extra={"campaign_id": campaign_id})
            elif not info.awaiting_moderation:
                await self._store.write(account.record_approved, campaign_id, now=self._clock())
        if declined and self._on_change is not None:
            self._on_change()
        return declined
