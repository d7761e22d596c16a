"""The low-balance watch: one alert when the balance drops below a threshold, one note when back.

Whether the alert is raised is kept in the database (``account_state``), so a restart neither
repeats the alert nor forgets to say the balance recovered. The state changes only once the
message was posted: a failed post is tried again at the next check, never twice after success.

Replicas on one database share the watch: one of them checks per interval (its
:class:`~bot.sms.delivery.turns.Turn`), and a change of the state is posted by the replica that
claimed it in the database (:func:`storage.turns.claim_change`), so two checks at the same moment
still post one alert. A claim is settled once the post is answered; a claim whose settling a
locked database refused is settled at this replica's next check, and meanwhile no other replica
posts it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.mobizon import Balance, MobizonError, SmsGateway
from bot.sms.delivery.turns import Turn
from storage import account, replicas, turns
from storage.store import Store

logger = logging.getLogger(__name__)

#: Seconds between two looks at the balance.
CHECK_SECONDS = 300.0

#: The kept values of :data:`storage.account.LOW_BALANCE_KEY`.
LOW, OK = "low", "ok"

#: Posts the alert (``low`` true) or the recovery note (``low`` false) for ``balance``.
PostAlert = Callable[[bool, Balance], Awaitable[None]]


class BalanceWatch:
    """Checks the balance against ``threshold`` at each :meth:`run_once`, as ``replica``."""

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        threshold: Decimal,
        post: PostAlert,
        *,
        replica: str,
        turn: Turn | None = None,
        lease: timedelta = replicas.LEASE,
        on_balance: Callable[[Balance], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._threshold = threshold
        self._post = post
        self._replica = replica
        self._turn = turn
        self._lease = lease
        self._on_balance = on_balance
        self._clock = clock
        # this replica's claim whose settling a locked database refused: (posting, value to keep)
        self._unsettled: tuple[str, str] | None = None

    async def run_once(self) -> str | None:
        """Look once; return ``"alert"`` or ``"recovered"`` when a message was posted."""
        if self._turn is not None and not await self._turn.take():
            return None  # another replica checks in this interval
        try:
            balance = await self._gateway.get_balance()
        except MobizonError as err:
            logger.warning("balance check failed", extra={"error": str(err)})
            return None
        if self._on_balance is not None:
            self._on_balance(balance)
        low = balance.amount < self._threshold
        if self._unsettled is not None:
            await self._settle(*self._unsettled)
        kept = await self._store.read(
            turns.kept_value,
            account.LOW_BALANCE_KEY,
            live_cutoff=replicas.lease_cutoff(self._clock(), self._lease),
        )
        # a claim left by a replica that is gone (or by this one, its outcome lost) was perhaps
        # not posted: the change is posted again if still due, as after a restart
        left = kept.posting
        if left is not None and kept.by_live and kept.by != self._replica:
            return None  # another replica is posting a change: it settles it
        raised = left != LOW if left is not None else kept.value == LOW
        if low == raised:
            if left is not None:  # the change left unposted is no longer due
                await self._store.write(
                    turns.settle_change,
                    account.LOW_BALANCE_KEY,
                    LOW if raised else OK,
                    posting=left,
                    replica=kept.by or "",
                )
            return None
        return await self._post_change(low, balance, kept.stored)

    async def _post_change(self, low: bool, balance: Balance, seen: str | None) -> str | None:
        """Claim the change, post it, settle it; ``None`` when another replica claimed it."""
        change = LOW if low else OK
        if not await self._store.write(
            turns.claim_change,
            account.LOW_BALANCE_KEY,
            change,
            seen=seen,
            replica=self._replica,
        ):
            return None
        try:
            await self._post(low, balance)
        except Exception:  # Slack failed: the next check tries again
            logger.warning("could not post the balance alert", exc_info=True)
            await self._settle(change, OK if low else LOW)
            return None
        await self._settle(change, change)
        logger.info("balance alert posted", extra={"low": low})
        return "alert" if low else "recovered"

    async def _settle(self, posting: str, value: str) -> None:
        """End this replica's claim: keep ``value``; kept for the next check if refused."""
        self._unsettled = (posting, value)
        await self._store.write(
            turns.settle_change,
            account.LOW_BALANCE_KEY,
            value,
            posting=posting,
            replica=self._replica,
        )
        self._unsettled = None
