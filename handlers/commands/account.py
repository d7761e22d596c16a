"""``/sms balance`` and ``/sms cancel ID``: the domain's answers, worded for people.

Every sentence people read here is in :mod:`handlers.account_words`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.sms.sending.balance import BalanceFound, BalanceOutcome
from bot.sms.sending.cancel import (
    AlreadyCancelled,
    AlreadySent,
    CancelFailed,
    Cancelled,
    CancelOutcome,
    DeleteUnknown,
    Gone,
    InProgress,
    NotOurs,
    NotScheduled,
    NotYours,
    TooLate,
)
from handlers import account_words as words
from handlers import campaign_cancel_words
from handlers.context import Services
from handlers.gateway_errors import describe
from handlers.grammar import CancelCommand


async def balance(svc: Services, respond: AsyncRespond, *, now: datetime | None = None) -> None:
    """Answer ``/sms balance``: the balance, and what smsbot's SMS cost today and in 7 days."""
    found = await svc.account.balance.balance(now=now)
    await respond(text=balance_said(found), response_type="ephemeral")


def balance_said(outcome: BalanceOutcome) -> str:
    """What ``/sms balance`` tells."""
    if not isinstance(outcome, BalanceFound):
        return words.balance_failed(describe(outcome.error))
    problem = None if outcome.costs_error is None else describe(outcome.costs_error)
    money = outcome.balance
    return words.balance_text(
        money.amount, money.currency, outcome.today, outcome.last_week, problem
    )


async def cancel(
    svc: Services,
    cmd: CancelCommand,
    command: dict[str, Any],
    respond: AsyncRespond,
    *,
    now: datetime | None = None,
) -> None:
    """Answer ``/sms cancel ID``: what became of deleting the scheduled SMS at Mobizon."""
    outcome = await svc.account.cancels.cancel(cmd.message_id, str(command["user_id"]), now=now)
    await respond(text=cancel_said(outcome), response_type="ephemeral")


def cancel_said(outcome: CancelOutcome) -> str:  # noqa: C901, PLR0911  # one sentence per outcome
    """What a cancel tells."""
    if outcome.campaign:
        return campaign_cancel_said(outcome)
    match outcome:
        case Cancelled(message_id):
            return words.cancelled(message_id)
        case NotOurs(message_id):
            return words.cancel_not_ours(message_id)
        case NotYours(message_id, sender):
            return words.cancel_not_yours(message_id, sender)
        case AlreadyCancelled(message_id, by):
            return words.cancel_already_cancelled(message_id, by)
        case NotScheduled(message_id):
            return words.cancel_not_scheduled(message_id)
        case AlreadySent(message_id):
            return words.cancel_already_sent(message_id)
        case TooLate(message_id):
            return words.cancel_too_late(message_id)
        case InProgress(message_id, holder):
            return words.cancel_in_progress(message_id, holder)
        case Gone(message_id):
            return words.cancel_gone(message_id)
        case DeleteUnknown(message_id):
            return words.cancel_unknown(message_id)
        case CancelFailed(message_id, error):
            return words.cancel_failed(message_id, describe(error))


def campaign_cancel_said(outcome: CancelOutcome) -> str:  # noqa: C901, PLR0911  # one per outcome
    """What a cancel of a send to many (by its Mobizon campaign id) tells."""
    said = campaign_cancel_words
    match outcome:
        case Cancelled(campaign_id):
            return said.cancelled(campaign_id)
        case NotYours(campaign_id, sender):
            return said.not_yours(campaign_id, sender)
        case AlreadyCancelled(campaign_id, by):
            return said.already_cancelled(campaign_id, by)
        case NotScheduled(campaign_id):
            return said.not_scheduled(campaign_id)
        case AlreadySent(campaign_id):
            return said.already_sent(campaign_id)
        case TooLate(campaign_id):
            return said.too_late(campaign_id)
        case InProgress(campaign_id, holder):
            return said.in_progress(campaign_id, holder)
        case Gone(campaign_id):
            return said.gone(campaign_id)
        case DeleteUnknown(campaign_id):
            return said.unknown(campaign_id)
        case CancelFailed(campaign_id, error):
            return said.failed(campaign_id, describe(error))
        case NotOurs(campaign_id):
            return words.cancel_not_ours(campaign_id)
