"""``/sms send`` to a list of numbers: prepare the campaign, then preview it or send it at once.

The campaign is prepared (checked and stored, once per command: the command's ``trigger_id``
is its duplicate key) while the command is acknowledged, as a single send is claimed
(:mod:`handlers.claim_ack`): a refusal that comes in time is the ack, the input's with the usage
line, as bad input is; later ones are told after it. A campaign that needs confirmation is shown
to its asker as a preview with "Send to N" and "Cancel" (:mod:`handlers.actions.campaign`); one
that does not is run at once, and its asker told what came of it.
"""

from __future__ import annotations

import asyncio

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.sms.sending.campaign_types import (
    CampaignNotAllowed,
    CampaignNotSaved,
    CampaignOptions,
    CampaignRequest,
    Prepared,
    PrepareRefusal,
)
from bot.sms.sending.types import Origin
from handlers import campaign_answers
from handlers.campaign_preview import preview_message
from handlers.claim_ack import CLAIM_BEFORE_ACK
from handlers.context import Services, campaign_service
from handlers.grammar import SendManyCommand, usage_line
from handlers.mrkdwn import escape

__all__ = ["campaign_request", "refused_in_ack", "send_many"]


def campaign_request(cmd: SendManyCommand, origin: Origin) -> CampaignRequest:
    """The campaign a parsed ``/sms send`` to a list asks for, from ``origin``."""
    return CampaignRequest(
        text=cmd.text,
        origin=origin,
        typed=cmd.typed,
        options=CampaignOptions(
            sender=cmd.sender,
            schedule=cmd.at,
            validity=cmd.validity,
            flash=cmd.flash,
            name=cmd.name,
            shorten_links=cmd.shorten_links,
        ),
    )


async def send_many(
    ack: AsyncAck,
    cmd: SendManyCommand,
    origin: Origin,
    svc: Services,
    respond: AsyncRespond,
) -> None:
    """Prepare the campaign while acknowledging the command, then preview it or run it."""
    preparing = asyncio.ensure_future(campaign_service(svc).prepare(campaign_request(cmd, origin)))
    await asyncio.wait({preparing}, timeout=CLAIM_BEFORE_ACK)
    early = preparing.result() if preparing.done() else None
    said = None if early is None or isinstance(early, Prepared) else refused_in_ack(early)
    try:
        await ack(text=said) if said is not None else await ack()
    except BaseException:
        await _forget(svc, await preparing, origin.user_id)
        raise
    prepared = await preparing
    if not isinstance(prepared, Prepared):
        told = campaign_answers.prepare_refused(prepared)
        if said is None and told is not None:
            await respond(text=_with_usage(prepared, told), response_type="ephemeral")
        return
    if prepared.needs_confirmation:
        message = preview_message(prepared, typed_text=cmd.text, zone=svc.config.timezone)
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    outcome = await campaign_service(svc).run(prepared.campaign_id)
    await respond(
        text=campaign_answers.ran(outcome, prepared.preview.left_out), response_type="ephemeral"
    )


def refused_in_ack(refusal: PrepareRefusal) -> str | None:
    """What the command's ack says of a refusal to prepare, or ``None`` (nothing to say)."""
    told = campaign_answers.prepare_refused(refusal)
    return None if told is None else _with_usage(refusal, told)


def _with_usage(refusal: PrepareRefusal, told: str) -> str:
    """A refusal of the input gets the usage line under it, as bad input does; others not."""
    if isinstance(refusal, CampaignNotAllowed | CampaignNotSaved):
        return told
    return f"{told}\n{escape(usage_line('send'))}"


async def _forget(svc: Services, prepared: Prepared | PrepareRefusal, user_id: str) -> None:
    """Slack never heard the ack: the campaign is cancelled, so nothing is ever sent of it.

    A preview nobody will see is cancelled as its asker would; one that needed no confirmation
    (stored confirmed) is withdrawn, so no replica runs it later: the person, told the command
    failed, may send it again.
    """
    if not isinstance(prepared, Prepared):
        return
    if prepared.needs_confirmation:
        await campaign_service(svc).cancel(prepared.campaign_id, user_id)
    else:
        await campaign_service(svc).withdraw(prepared.campaign_id)
