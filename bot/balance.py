"""The low-balance watch: one alert when the balance drops below a threshold, one note when back.

Whether the alert is raised is kept in the database (``account_state``), so a restart neither
repeats the alert nor forgets to say the balance recovered. The state changes only once the
message was posted: a failed post is tried again at the next check, never twice after success.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.mobizon.errors import MobizonError
from bot.mobizon.gateway import SmsGateway
from bot.mobizon.types import Balance
from storage import account
from storage.store import Store

logger = logging.getLogger(__name__)

#: Seconds between two looks at the balance.
CHECK_SECONDS = 300.0

#: Posts the alert (``low`` true) or the recovery note (``low`` false) for ``balance``.
PostAlert = Callable[[bool, Balance], Awaitable[None]]


class BalanceWatch:
    """Checks the balance against ``threshold`` at each :meth:`run_once`."""

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        threshold: Decimal,
        post: PostAlert,
        *,
        on_balance: Callable[[Balance], None] | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._threshold = threshold
        self._post = post
        self._on_balance = on_balance
        # the state of an alert posted whose record a locked database refused: not posted again
        self._unsaved: str | None = None

    async def run_once(self) -> str | None:
        """Look once; return ``"alert"`` or ``"recovered"`` when a message was posted."""
        try:
            balance = await self._gateway.get_balance()
        except MobizonError as err:
            logger.warning("balance check failed", extra={"error": str(err)})
            return None
        if self._on_balance is not None:
            self._on_balance(balance)
        low = balance.amount < self._threshold
        if self._unsaved is not None:
            await self._store.write(account.set_state, account.LOW_BALANCE_KEY, self._unsaved)
            self._unsaved = None
        raised = await self._store.read(account.get_state, account.LOW_BALANCE_KEY) == "low"
        if low == raised:
            return None
        try:
            await self._post(low, balance)
        except Exception:  # Slack failed: the next check tries again
            logger.warning("could not post the balance alert", exc_info=True)
            return None
        self._unsaved = "low" if low else "ok"
        await self._store.write(account.set_state, account.LOW_BALANCE_KEY, self._unsaved)
        self._unsaved = None
        logger.info("balance alert posted", extra={"low": low})
        return "alert" if low else "recovered"
