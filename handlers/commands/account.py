"""``/sms balance`` and ``/sms cancel ID``: what Mobizon knows about the account.

Every sentence people read here is in :mod:`handlers.account_words`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.mobizon import (
    DEFAULT_TIMEOUTS,
    ListCriteria,
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
    MobizonTimeoutError,
    parse_timestamp,
)
from handlers import account_words as words
from handlers.context import Services
from handlers.gateway_errors import describe
from handlers.grammar import CancelCommand
from storage import account, messages
from storage.records import SmsRecord

logger = logging.getLogger(__name__)

#: Mobizon deletes a scheduled campaign only until this long before its time.
CANCEL_LEAD = timedelta(minutes=5)
#: How long a cancel waits for another one already at Mobizon (longer than a Mobizon call).
CANCEL_WAIT = 30.0
#: How often the waiting cancel looks at the SMS again.
CANCEL_POLL = 0.1
#: Campaign ids asked per ``message/list`` page when adding up costs.
COST_CHUNK = 100
#: How long ``/sms balance`` waits for Mobizon in all: one call's deadline, though the costs may
#: take several calls; past it the balance is answered without them.
BALANCE_WITHIN = DEFAULT_TIMEOUTS.deadline


async def balance(
    svc: Services,
    respond: AsyncRespond,
    *,
    now: datetime | None = None,
    within: float | None = None,
) -> None:
    """Answer ``/sms balance``: the balance, and what smsbot's SMS cost today and in 7 days.

    The answer comes within ``within`` seconds (:data:`BALANCE_WITHIN`): costs Mobizon has not
    stated by then are left out.
    """
    within = BALANCE_WITHIN if within is None else within
    until = asyncio.get_running_loop().time() + within
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
        async with asyncio.timeout_at(until):
            costs = await _costs(svc, sent)
    except TimeoutError:
        late = MobizonTimeoutError("costs past the answer's deadline", details={"seconds": within})
        text = words.balance_text(found.amount, found.currency, None, None, describe(late))
        await respond(text=text, response_type="ephemeral")
        return
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
    """Answer ``/sms cancel ID``: delete the scheduled SMS's campaign at Mobizon.

    One cancel at a time asks Mobizon (a claim in the database, across processes); the others
    wait for its outcome and are told who cancelled the SMS.
    """
    user_id = str(command["user_id"])

    async def say(text: str) -> None:
        await respond(text=text, response_type="ephemeral")

    sms = await _claimed(svc, cmd.message_id, user_id, say, now=now)
    if sms is None or sms.campaign_id is None:
        return
    deleted = False
    try:
        answer = await _delete(svc, sms.campaign_id, cmd.message_id)
        deleted = answer is None
        if deleted:
            logger.info("scheduled SMS cancelled", extra={"message_id": cmd.message_id})
            await svc.store.write_retrying(account.record_cancelled, cmd.message_id, user_id)
    finally:
        # Mobizon did not cancel it: the next cancel may try. Once deleted, the claim stays
        # (until it expires) even if the record failed, so nobody asks Mobizon again at once.
        if not deleted:
            await svc.store.write_retrying(account.release_cancel, cmd.message_id, user_id)
    if deleted and svc.wake_notifier is not None:
        svc.wake_notifier()
    await say(words.cancelled(cmd.message_id) if answer is None else answer)


async def _claimed(
    svc: Services,
    message_id: int,
    user_id: str,
    say: Callable[[str], Awaitable[None]],
    *,
    now: datetime | None,
) -> SmsRecord | None:
    """The SMS once ``user_id`` holds the claim to cancel it; else ``None``, the person told why.

    While another cancel holds the claim, its outcome is waited for (up to :data:`CANCEL_WAIT`)
    and the SMS looked at again: cancelled, it is "already cancelled by" whoever did.
    """
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + CANCEL_WAIT
    while True:
        sms = await svc.store.read(messages.get_by_message_id, message_id)
        refused = cancel_refusal(
            sms,
            message_id,
            user_id,
            allowed_users=svc.config.allowed_users,
            zone=svc.config.timezone,
            now=now or datetime.now(UTC),
        )
        if refused is not None or sms is None:
            await say(refused or words.cancel_not_ours(message_id))
            return None
        moment = datetime.now(UTC)
        holder = sms.cancelling_by
        live = sms.cancelling_at is not None and (
            moment - sms.cancelling_at < account.CANCEL_CLAIM_LIFETIME
        )
        if holder is None or not live:
            if await svc.store.write(account.claim_cancel, message_id, user_id, now=moment):
                return sms
        elif loop.time() >= give_up_at:
            await say(words.cancel_in_progress(message_id, holder))
            return None
        else:
            await asyncio.sleep(CANCEL_POLL)


async def _delete(svc: Services, campaign_id: int, message_id: int) -> str | None:
    """Delete the campaign at Mobizon: ``None`` when it is deleted, else what to tell."""
    try:
        await svc.gateway.delete_campaign(campaign_id)
    except MobizonCampaignNotDeletableError:
        return words.cancel_too_late(message_id)
    except MobizonCampaignNotFoundError:
        return words.cancel_gone(message_id)
    except MobizonCampaignDeleteUnknownError:
        return words.cancel_unknown(message_id)
    except MobizonError as err:
        return words.cancel_failed(message_id, describe(err))
    return None
