"""The simulated campaigns of sends to many: created, filled with recipients, sent.

A mixin of :class:`~bot.simulator.MobizonSimulator` answering ``campaign/create``,
``campaign/addrecipients`` and ``campaign/send`` as Mobizon's docs say, and ``campaign/getinfo``
and ``campaign/delete`` for these campaigns. Each recipient added becomes a message that stays
``NEW`` until the campaign is sent; then it moves through its statuses like a single SMS
(``getSMSStatus``, ``list`` and the webhooks see it).
"""

from __future__ import annotations

import heapq
import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.simulator import _bulk_methods as bulk
from bot.simulator._account import campaign_id_of, not_found, shorten_links
from bot.simulator._account_state import AccountState
from bot.simulator._bulk_info import bulk_campaign_info, bulk_delete_refusal
from bot.simulator._bulk_methods import BulkCampaign
from bot.simulator._config import (
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_CREATE,
    CAMPAIGN_DELETE,
    CAMPAIGN_INFO,
    CAMPAIGN_SEND,
)
from bot.simulator._form import PhpForm
from bot.simulator._messages import SimulatedMessage, plan_timeline
from bot.simulator._methods import Answer
from bot.simulator._sms import number_info, segment_count

if TYPE_CHECKING:
    import random

_NOT_ALL_ADDED = "Not every recipient was added to the campaign."
_NONE_ADDED = "No recipient was added to the campaign."


class BulkCampaigns(AccountState):
    """Campaigns of many recipients, beside the account's; the messages are its subclass's."""

    _next_message_id: int
    _next_campaign_id: int
    _uuids: random.Random

    if TYPE_CHECKING:  # the simulator's own, found at run time on the subclass

        def _draw_outcome(self) -> str:
            raise NotImplementedError

    def _init_bulk(self) -> None:
        #: Every campaign made by ``campaign/create``, by id.
        self.bulk_campaigns: dict[int, BulkCampaign] = {}

    def moderate(self, campaign_id: int, *, approve: bool, comment: str | None = None) -> None:
        """Decide a campaign waiting in moderation now, as a single send's (see the account's).

        A campaign of many is decided for every message: approved they go out, declined never.
        """
        campaign = self.bulk_campaigns.get(campaign_id)
        if campaign is None:
            super().moderate(campaign_id, approve=approve, comment=comment)
            return
        now = self.now()
        messages = [self.messages[message_id] for message_id in campaign.message_ids]
        if not messages or not messages[0].moderation_pending(now):
            raise ValueError(f"campaign {campaign_id} is not waiting in moderation")
        for message in messages:
            message.decide(approve=approve, comment=comment, at=now)
            if not approve:
                self._refund(message)
            self._queue_final(message)
        self._wake_webhooks()

    def _bulk_answer(self, key: str, params: PhpForm, now: datetime) -> Answer | None:
        """Answer a campaign method for these campaigns; ``None`` when it is not one of theirs.

        ``campaign/getinfo`` and ``campaign/delete`` of another id are left to single sends'.
        """
        if key == CAMPAIGN_CREATE:
            return self._create(params, now)
        ours = key in {CAMPAIGN_ADD_RECIPIENTS, CAMPAIGN_SEND}
        if not ours and key not in {CAMPAIGN_INFO, CAMPAIGN_DELETE}:
            return None
        campaign_id = campaign_id_of(params)
        if isinstance(campaign_id, Answer):
            return campaign_id if ours else None
        campaign = self.bulk_campaigns.get(campaign_id)
        if campaign is None:
            return not_found(campaign_id) if ours else None
        answers = {
            CAMPAIGN_ADD_RECIPIENTS: lambda: self._add_recipients(campaign, params, now),
            CAMPAIGN_SEND: lambda: self._send_campaign(campaign, now),
            CAMPAIGN_INFO: lambda: self._bulk_info(campaign, now),
            CAMPAIGN_DELETE: lambda: self._delete_bulk(campaign, now),
        }
        return answers[key]()

    def _create(self, params: PhpForm, now: datetime) -> Answer:
        order = bulk.validate_create(params, now)
        if isinstance(order, Answer):
            return order
        campaign = BulkCampaign(self._next_campaign_id, order, now)
        self._next_campaign_id += 1
        self.bulk_campaigns[campaign.id] = campaign
        return Answer(0, campaign.id)

    def _add_recipients(self, campaign: BulkCampaign, params: PhpForm, now: datetime) -> Answer:
        if campaign.sent_at is not None or campaign.deleted_at is not None:
            return Answer(10, [], "The campaign's status does not allow adding recipients.")
        entries = bulk.read_recipients(params)
        if isinstance(entries, Answer):
            return entries
        flag = bulk.placeholders_flag(params)
        rows = [self._add_one(campaign, entry, flag, now) for entry in entries]
        added = sum(1 for row in rows if row["code"] == bulk.ADDED)
        if added == len(rows):
            return Answer(0, rows)
        return Answer(98, rows, _NOT_ALL_ADDED) if added else Answer(99, rows, _NONE_ADDED)

    def _add_one(
        self, campaign: BulkCampaign, entry: bulk.RecipientEntry, flag: int, now: datetime
    ) -> dict[str, object]:
        """Add one recipient; its row of the answer."""
        digits = bulk.digits_of(entry.number)
        code = bulk.row_code(entry, digits, stop_list=self._config.stop_list)
        text: str | None = campaign.order.text
        if code == bulk.ADDED and digits in campaign.numbers:
            code = bulk.DUPLICATE
        if code == bulk.ADDED and campaign.order.type == bulk.TEMPLATE:
            text = bulk.render(campaign.order.text, entry.values, flag)
            code = bulk.PLACEHOLDERS_MISSING if text is None else code
        row: dict[str, object] = {
            "recipient": digits or None,
            "code": code,
            "messageId": None,
            "number": entry.number,
        }
        if code == bulk.ADDED and text is not None:
            campaign.numbers.add(digits)
            message = self._campaign_message(campaign, digits, text, now)
            row["messageId"] = str(message.id)
        return row

    def _campaign_message(
        self, campaign: BulkCampaign, recipient: str, text: str, now: datetime
    ) -> SimulatedMessage:
        """A new message of ``campaign``: ``NEW``, going nowhere until the campaign is sent."""
        order, config = campaign.order, self._config
        if order.shorten_links == 1:
            text = shorten_links(text, self._short_link)
        country, operator = number_info(recipient)
        message = SimulatedMessage(
            id=self._next_message_id,
            campaign_id=campaign.id,
            sender=order.sender or config.default_sender,
            recipient=recipient,
            text=text,
            segments=segment_count(text),
            segment_price=config.segment_price,
            groups=None,
            uuid=str(uuid.UUID(int=self._uuids.getrandbits(128), version=4)),
            country=country,
            operator=operator,
            name=order.name,
            created_at=now,
            deferred_to=order.deferred_to,
            validity=order.validity,
            mclass=order.mclass,
            shorten_links=order.shorten_links,
            moderated_until=None,
            outcome=self._draw_outcome(),
            timeline=(),
            speed=config.speed,
        )
        self._next_message_id += 1
        self.messages[message.id] = message
        campaign.message_ids.append(message.id)
        return message

    def _send_campaign(self, campaign: BulkCampaign, now: datetime) -> Answer:
        if campaign.deleted_at is not None:
            return not_found(campaign.id)
        if campaign.sent_at is not None or not campaign.message_ids:
            return Answer(10, [], "The campaign's status could not be changed.")
        messages = [self.messages[message_id] for message_id in campaign.message_ids]
        config = self._config
        if sum((message.cost for message in messages), Decimal(0)) > self.balance:
            return Answer(config.insufficient_funds_code, [], config.insufficient_funds_message)
        moderated, declined = config.moderation, config.decline_comment is not None
        for message in messages:
            moderated_until, timeline = plan_timeline(
                now,
                outcome=message.outcome,
                speed=config.speed,
                moderated=moderated,
                deferred_to=message.deferred_to,
                moderation_seconds=config.moderation_seconds,
                declined=declined,
            )
            message.moderation, message.moderated_until = moderated, moderated_until
            message.timeline, message.speed = timeline, config.speed
            message.declined = moderated and declined
            message.global_comment = config.decline_comment if moderated else None
            self._charged += message.cost
            if message.declined and moderated_until is not None:
                heapq.heappush(self._refunds_due, (moderated_until, message.id))
            self._queue_final(message)
        campaign.sent_at = now
        campaign.send_status = 1 if moderated else 2
        self._wake_webhooks()
        return Answer(0, campaign.send_status)

    def _bulk_info(self, campaign: BulkCampaign, now: datetime) -> Answer:
        """``campaign/getinfo`` of a campaign of many: its state and counters over its messages."""
        messages = [self.messages[message_id] for message_id in campaign.message_ids]
        return bulk_campaign_info(campaign, messages, now, self._config.currency)

    def _delete_bulk(self, campaign: BulkCampaign, now: datetime) -> Answer:
        """``campaign/delete``: before sending starts (a scheduled one until 5 minutes before)."""
        if campaign.deleted_at is not None:
            return not_found(campaign.id)
        messages = [self.messages[message_id] for message_id in campaign.message_ids]
        refusal = bulk_delete_refusal(campaign, messages, now)
        if refusal is not None:
            return refusal
        campaign.deleted_at = now
        for message in messages:
            message.delete(now)
            if campaign.sent_at is not None:
                self._refund(message)
        return Answer(0, True)  # noqa: FBT003 - Mobizon's data for a deletion
