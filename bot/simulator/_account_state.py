"""The simulated account: balance, pricing, sender names, campaigns, moderation and short links.

A mixin of :class:`~bot.simulator.MobizonSimulator`: what a send costs and gives back, the
campaigns and their deletion, and the answers of the account-level methods.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.simulator._account import (
    balance_answer,
    campaign_id_of,
    campaign_info,
    delete_refusal,
    not_found,
    sender_names_answer,
)
from bot.simulator._config import CAMPAIGN_INFO, GET_BALANCE, SENDER_NAMES, SimulatorConfig
from bot.simulator._form import PhpForm
from bot.simulator._messages import SimulatedMessage
from bot.simulator._methods import Answer

_SHORT_CODE_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AccountState:
    """The account's money and campaigns; the messages themselves are its subclass's."""

    _config: SimulatorConfig
    #: Every message accepted so far, by message id.
    messages: dict[int, SimulatedMessage]
    _created: datetime

    def _init_account(self, config: SimulatorConfig) -> None:
        self._campaigns: dict[int, int] = {}
        self._balance_base = config.balance
        self._charged = Decimal(0)
        self._refunded: set[int] = set()
        self._refunds_due: list[tuple[datetime, int]] = []
        self._links = random.Random(f"links-{config.seed}")
        #: Every short link made by ``params[shortenLinks]=1``: short URL -> original link.
        self.short_links: dict[str, str] = {}

    if TYPE_CHECKING:  # the simulator's own, found at run time on the subclass

        def now(self) -> datetime:
            raise NotImplementedError

        def _queue_final(self, message: SimulatedMessage) -> None:
            raise NotImplementedError

        def _wake_webhooks(self) -> None:
            raise NotImplementedError

    def campaign(self, campaign_id: int) -> SimulatedMessage:
        """The message of a (single-message) campaign (``KeyError`` for an unknown id)."""
        return self.messages[self._campaigns[campaign_id]]

    @property
    def balance(self) -> Decimal:
        """What is left on the simulated account now."""
        self._settle_refunds()
        return self._balance_base - self._charged

    def set_balance(self, amount: Decimal | int | str) -> None:
        """Set the account's balance to ``amount`` now; sends from then on spend from it."""
        self._settle_refunds()
        self._balance_base = Decimal(amount) + self._charged

    def set_pricing(self, segment_price: Decimal | str, currency: str | None = None) -> None:
        """Change the segment price (and the currency) for messages sent from now on."""
        price = Decimal(segment_price)
        self._config = replace(
            self._config, segment_price=price, currency=currency or self._config.currency
        )

    def set_sender_names(self, names: Sequence[str]) -> None:
        """Change the sender names ``alphaname/list`` answers (the first is the default)."""
        self._config = replace(self._config, sender_names=tuple(names))

    def moderate(self, campaign_id: int, *, approve: bool, comment: str | None = None) -> None:
        """Decide a campaign waiting in moderation now: approved goes out, declined never does.

        ``comment`` is the moderator's ``globalComment``. ``KeyError`` for an unknown campaign,
        ``ValueError`` for one not waiting in moderation.
        """
        message = self.campaign(campaign_id)
        now = self.now()
        if not message.moderation_pending(now):
            raise ValueError(f"campaign {campaign_id} is not waiting in moderation")
        message.decide(approve=approve, comment=comment, at=now)
        if not approve:
            self._refund(message)
        self._queue_final(message)
        self._wake_webhooks()

    def _account_answer(self, key: str, params: PhpForm, now: datetime) -> Answer:
        """Answer one of :data:`ACCOUNT_METHODS`."""
        if key == GET_BALANCE:
            return balance_answer(self.balance, self._config.currency)
        if key == SENDER_NAMES:
            return sender_names_answer(params, self._config.sender_names, self._created)
        campaign_id = campaign_id_of(params)
        if isinstance(campaign_id, Answer):
            return campaign_id
        return self._campaign_answer(key, campaign_id, now)

    def _campaign_answer(self, key: str, campaign_id: int, now: datetime) -> Answer:
        """Answer ``campaign/getInfo`` or ``campaign/delete`` for ``campaign_id``."""
        message_id = self._campaigns.get(campaign_id)
        if message_id is None:
            return not_found(campaign_id)
        message = self.messages[message_id]
        if key == CAMPAIGN_INFO:
            return campaign_info(message, now, self._config.currency)
        if message.deleted_at is not None:
            return not_found(campaign_id)
        refusal = delete_refusal(message, now)
        if refusal is not None:
            return refusal
        message.delete(now)
        self._refund(message)
        return Answer(0, True)  # noqa: FBT003 - Mobizon's data for a deletion

    def _refund(self, message: SimulatedMessage) -> None:
        """Give a message's cost back to the balance, once."""
        if message.id not in self._refunded:
            self._refunded.add(message.id)
            self._charged -= message.cost

    def _settle_refunds(self) -> None:
        """Give back the cost of campaigns declined on their timeline by now."""
        now = self.now()
        while self._refunds_due and self._refunds_due[0][0] <= now:
            _at, message_id = heapq.heappop(self._refunds_due)
            message = self.messages[message_id]
            if message.declined_at(now):
                self._refund(message)

    def _short_link(self, link: str) -> str:
        """A new short link on ``short_link_base`` standing for ``link``."""
        base = self._config.short_link_base.rstrip("/")
        while True:
            code = "".join(self._links.choices(_SHORT_CODE_ALPHABET, k=4))
            short = f"{base}/{code}"
            if short not in self.short_links:
                self.short_links[short] = link
                return short
