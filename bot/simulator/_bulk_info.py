"""``campaign/getinfo`` and ``campaign/delete``'s rule for a simulated campaign of many.

The same shape as a single send's campaign (:func:`bot.simulator._account.campaign_info`), its
counters summed over the campaign's messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from bot.mobizon import MessageStatus
from bot.simulator._account import COUNTED_STATUSES, DELETE_DEADLINE
from bot.simulator._bulk_methods import BulkCampaign
from bot.simulator._messages import (
    AUTO_READY_FOR_SEND,
    DECLINED,
    DONE,
    MODERATION,
    READY_FOR_SEND,
    RUNNING,
    SENT,
    SimulatedMessage,
    is_final,
)
from bot.simulator._methods import Answer
from bot.simulator._sms import format_timestamp

#: ``commonStatus`` of a campaign created and not sent yet.
NEW = MessageStatus.NEW.value


def _money(amount: Decimal) -> str:
    return f"{amount:.4f}"


def _statuses(
    campaign: BulkCampaign, messages: Sequence[SimulatedMessage], now: datetime
) -> tuple[str, str]:
    """``moderationStatus`` and ``commonStatus`` of the campaign as of ``now``."""
    if campaign.sent_at is None or not messages:
        return AUTO_READY_FOR_SEND, NEW
    first = messages[0]
    moderation = first.moderation_status_at(now)
    if first.moderation_pending(now):
        return moderation, MODERATION
    if first.declined_at(now):
        return moderation, DECLINED
    states = [message.state_at(now).status for message in messages]
    if all(is_final(status) for status in states):
        return moderation, DONE
    if all(status == MessageStatus.NEW for status in states):
        return moderation, READY_FOR_SEND
    return moderation, RUNNING if MessageStatus.ENQUEUD in states else SENT


def bulk_campaign_info(
    campaign: BulkCampaign, messages: Sequence[SimulatedMessage], now: datetime, currency: str
) -> Answer:
    """Answer ``campaign/getinfo`` for ``campaign``, whose messages are ``messages``."""
    states = [message.state_at(now) for message in messages]
    counts: Counter[str] = Counter()
    segments: Counter[str] = Counter()
    costs: dict[str, Decimal] = {}
    for message, state in zip(messages, states, strict=True):
        counts[state.status] += 1
        segments[state.status] += message.segments
        costs[state.status] = costs.get(state.status, Decimal(0)) + message.cost
    counters: dict[str, object] = {"campaignId": str(campaign.id)}
    for status in COUNTED_STATUSES:
        name = status.capitalize()
        counters[f"total{name}SegNum"] = str(segments[status])
        counters[f"total{name}MsgNum"] = str(counts[status])
        counters[f"total{name}MsgCost"] = _money(costs.get(status, Decimal(0)))
    total = sum((message.cost for message in messages), Decimal(0))
    counters.update(
        {
            "totalSegNum": str(sum(message.segments for message in messages)),
            "totalMsgNum": str(len(messages)),
            "totalCost": _money(total),
            "userCurrency": currency,
        }
    )
    moderation, common = _statuses(campaign, messages, now)
    started = [state.start_send_at for state in states if state.start_send_at is not None]
    finals = [state.status_updated_at for state in states if is_final(state.status)]
    done = common == DONE and len(finals) == len(states)
    order = campaign.order
    data: dict[str, object] = {
        "id": str(campaign.id),
        "moderationStatus": moderation,
        "commonStatus": common,
        "type": str(order.type),
        "msgType": "SMS",
        "isDeleted": "1" if campaign.deleted_at is not None else "0",
        "deletedTs": format_timestamp(campaign.deleted_at),
        "deferredToTs": format_timestamp(order.deferred_to),
        "createTs": format_timestamp(campaign.created_at.replace(microsecond=0)),
        "startSendTs": format_timestamp(min(started)) if started else None,
        "endSendTs": format_timestamp(max(f for f in finals if f)) if done and finals else None,
        "name": order.name,
        "from": order.sender,
        "text": order.text,
        "globalComment": messages[0].global_comment if common == DECLINED else None,
        "counters": counters,
    }
    return Answer(0, data)


def bulk_delete_refusal(
    campaign: BulkCampaign, messages: Sequence[SimulatedMessage], now: datetime
) -> Answer | None:
    """Why ``campaign/delete`` cannot delete the campaign now (code 10), or ``None``."""
    started = any(message.state_at(now).start_send_at is not None for message in messages)
    deferred = campaign.order.deferred_to
    too_late = deferred is not None and now > deferred - DELETE_DEADLINE
    if started or (too_late and campaign.sent_at is not None):
        return Answer(
            10,
            [],
            "The campaign cannot be deleted: its sending has started or starts in less than "
            "5 minutes.",
        )
    return None
