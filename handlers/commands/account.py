"""``/sms balance`` and ``/sms cancel ID``: what Mobizon knows about the account.

Every sentence people read here is in :mod:`handlers.account_words`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.mobizon.errors import (
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
)
from bot.mobizon.types import ListCriteria, parse_timestamp
from handlers import account_words as words
from handlers.context import Services
from handlers.gateway_errors import describe
from handlers.grammar import CancelCommand
from storage import account, messages
from storage.records import SmsRecord

logger = logging.getLogger(__name__)

#: Mobizon deletes a scheduled campaign only until this long before its time.
CANCEL_LEAD = timedelta(minutes=5)
#: Campaign ids asked per ``message/list`` page when adding up costs.
COST_CHUNK = 100


async def balance(svc: Services, respond: AsyncRespond, *, now: datetime | None = None) -> None:
    """Answer ``/sms balance``: the balance, and what smsbot's SMS cost today and in 7 days."""
    try:
        found = await svc.gateway.get_balance()
    except MobizonError as err:
        await respond(text=words.balance_failed(describe(err)), response_type="ephemeral")
        return
    if svc.on_balance is not None:
        svc.on_balance(found)
    moment = (now or datetime.now(UTC)).astimezone(svc.config.timezone)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    week = moment - timedelta(days=7)
    sent = await svc.store.read(account.sent_campaigns_since, week)
    today_ids = await svc.store.read(account.sent_campaigns_since, midnight)
    try:
        costs = await _costs(svc, sent)
    except MobizonError as err:
        text = words.balance_text(found.amount, found.currency, None, None, describe(err))
        await respond(text=text, response_type="ephemeral")
        return
    today = sum((c for i, c in costs.items() if i in today_ids), Decimal(0))
    last_week = sum(costs.values(), Decimal(0))
    text = words.balance_text(found.amount, found.currency, today, last_week, None)
    await respond(text=text, response_type="ephemeral")


async def _costs(svc: Services, sent: dict[int, int]) -> dict[int, Decimal]:
    """The cost of each of ``sent``'s messages: kept ones, the rest as Mobizon states them."""
    costs = await svc.store.read(account.known_costs, sorted(sent))
    campaigns = sorted({c for i, c in sent.items() if i not in costs})
    for start in range(0, len(campaigns), COST_CHUNK):
        chunk = tuple(campaigns[start : start + COST_CHUNK])
        page_no = 0
        while True:
            page = await svc.gateway.list_messages(
                ListCriteria(campaign_ids=chunk), page=page_no, page_size=100
            )
            for item in page.items:
                if item.id in sent and item.cost is not None:
                    costs[item.id] = item.cost
            page_no += 1
            if page_no >= page.page_count:
                break
    return costs


def cancel_refusal(  # noqa: PLR0911  # one answer per refusal
    sms: SmsRecord | None,
    message_id: int,
    user_id: str,
    *,
    allowed_users: frozenset[str],
    zone: tzinfo,
    now: datetime,
) -> str | None:
    """Why ``user_id`` may not cancel ``sms`` (message ``message_id``) now, or ``None``.

    ``zone`` is the Mobizon account's, in which the scheduled time was written.
    """
    if sms is None or sms.campaign_id is None:
        return words.cancel_not_ours(message_id)
    if sms.user_id != user_id and user_id not in allowed_users:
        return words.cancel_not_yours(message_id, sms.user_id)
    if sms.cancelled_by is not None:
        return words.cancel_already_cancelled(message_id, sms.cancelled_by)
    if sms.deferred_to is None:
        return words.cancel_not_scheduled(message_id)
    at = parse_timestamp(sms.deferred_to).replace(tzinfo=zone)
    if sms.is_final or now >= at:
        return words.cancel_already_sent(message_id)
    if now >= at - CANCEL_LEAD:
        return words.cancel_too_late(message_id)
    return None


async def cancel(
    svc: Services,
    cmd: CancelCommand,
    command: dict[str, Any],
    respond: AsyncRespond,
    *,
    now: datetime | None = None,
) -> None:
    """Answer ``/sms cancel ID``: delete the scheduled SMS's campaign at Mobizon."""
    user_id = str(command["user_id"])
    sms = await svc.store.read(messages.get_by_message_id, cmd.message_id)

    async def say(text: str) -> None:
        await respond(text=text, response_type="ephemeral")

    refused = cancel_refusal(
        sms,
        cmd.message_id,
        user_id,
        allowed_users=svc.config.allowed_users,
        zone=svc.config.timezone,
        now=now or datetime.now(UTC),
    )
    if refused is not None or sms is None or sms.campaign_id is None:
        await say(refused or words.cancel_not_ours(cmd.message_id))
        return
    try:
        await svc.gateway.delete_campaign(sms.campaign_id)
    except MobizonCampaignNotDeletableError:
        await say(words.cancel_too_late(cmd.message_id))
        return
    except MobizonCampaignNotFoundError:
        await say(words.cancel_gone(cmd.message_id))
        return
    except MobizonCampaignDeleteUnknownError:
        await say(words.cancel_unknown(cmd.message_id))
        return
    except MobizonError as err:
        await say(words.cancel_failed(cmd.message_id, describe(err)))
        return
    logger.info("scheduled SMS cancelled", extra={"message_id": cmd.message_id})
    await svc.store.write_retrying(account.record_cancelled, cmd.message_id, user_id)
    if svc.wake_notifier is not None:
        svc.wake_notifier()
    await say(words.cancelled(cmd.message_id))
