"""``/sms``: parse the command, answer bad input at once, then send, look up or search."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import OutgoingSms
from bot.sms.sending.lookups import AllHidden, LookupFailed, NoneSentHere, Statuses
from bot.sms.sending.outcomes import NotAllowed, OptedOut, Outcome, Unsendable
from bot.sms.sending.types import Origin, Surface
from handlers import account_words, claim_ack, formats, lookup_blocks, send_outcomes
from handlers.blocks import SlackMessage
from handlers.commands import account, campaign, optout, templates
from handlers.context import Services, services
from handlers.first_posts import post_of
from handlers.gateway_errors import describe
from handlers.grammar import (
    BalanceCommand,
    FindCommand,
    HelpCommand,
    OptOutAddCommand,
    OptOutListCommand,
    OptOutRemoveCommand,
    SendCommand,
    SendManyCommand,
    StatusCommand,
    TemplateSendCommand,
    UsageError,
    find_button_value,
    help_text,
    parse_command,
)
from handlers.grammar.send import text_refused
from handlers.grammar.templates import TemplateCommand, template_send_usage
from handlers.grammar.usage import usage_line
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape
from handlers.views.listeners import handle_compose_command

#: Told to whoever may not read the whole account's SMS.
FIND_REFUSED = N_(
    "`/sms find` searches every SMS of the Mobizon account, from every channel, so it is only "
    "for the users in SMSBOT_ALLOWED_USERS and SMSBOT_READERS: ask an admin to add you. "
    "`/sms status` shows the SMS sent from this channel."
)


async def handle_sms(  # noqa: C901, PLR0911, PLR0912  # one early answer per kind of command
    ack: AsyncAck,
    command: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Answer one ``/sms`` command: ack within Slack's 3 seconds, then do the work.

    Registered through :func:`~handlers.errors.reporting_errors`, which answers what escapes.
    """
    svc = services(context)
    if not str(command.get("text", "")).strip() and command.get("user_id"):
        await handle_compose_command(ack, command, svc, client, respond)
        return
    # --at is wall time as the user writes it, in the Mobizon account's time zone
    now = datetime.now(svc.config.timezone).replace(microsecond=0)
    try:
        parsed = parse_command(
            command.get("text", ""), default_region=svc.config.default_region, now=now
        )
    except UsageError as err:
        # the sentence may quote what was typed: escaped, Slack shows it rather than reading markup
        await ack(text=escape(str(err)))
        return
    if isinstance(parsed, HelpCommand):
        await ack(text=help_text())
        return
    user_id = str(command.get("user_id") or "")
    if not user_id or not command.get("channel_id"):
        # Slack always names both; without them nothing can be answered for the right person
        await ack(text=_("This command came without a user or a channel, so I cannot answer it."))
        return
    if isinstance(parsed, FindCommand) and not svc.config.may_read_all(user_id):
        await ack(text=_(FIND_REFUSED))
        return
    if isinstance(parsed, TemplateCommand | TemplateSendCommand):

        async def send_one(sms: OutgoingSms) -> None:
            await claim_ack_deliver(
                ack, svc, sms, origin(command), respond=respond, usage=template_send_usage
            )

        await templates.handle(ack, parsed, command, svc, send_one=send_one, respond=respond)
        return
    if isinstance(parsed, OptOutAddCommand | OptOutListCommand | OptOutRemoveCommand):
        await optout.handle(ack, parsed, command, svc, respond)
        return
    if isinstance(parsed, SendCommand):
        await claim_ack_deliver(
            ack, svc, outgoing(parsed), origin(command), respond=respond, usage=_send_usage
        )
        return
    if isinstance(parsed, SendManyCommand):
        await campaign.send_many(ack, parsed, origin(command), svc, respond)
        return
    await ack()
    if isinstance(parsed, StatusCommand):
        await status(svc, parsed, command, respond)
    elif isinstance(parsed, FindCommand):
        await find(svc, parsed, respond)
    elif isinstance(parsed, BalanceCommand):
        await account.balance(svc, respond)
    else:
        await account.cancel(svc, parsed, command, respond)


async def claim_ack_deliver(
    ack: AsyncAck,
    svc: Services,
    sms: OutgoingSms,
    source: Origin,
    *,
    respond: AsyncRespond,
    usage: Callable[[], str],
) -> None:
    """Claim the send, acknowledge the command, then send it and say what became of it.

    The send service's refusal of who may send or of the text (made before anything is
    written) is the ack, the text's with the command's usage line (``usage`` words it, only
    when a refusal needs it), as bad input is. The
    ack is empty otherwise, whatever the claim says: other refusals are told after it, as every
    outcome is (:func:`handlers.claim_ack.claim_ack_deliver`).
    """

    async def acked(refusal: Outcome | None) -> bool:
        said = refused_in_ack(refusal, usage)
        if said is None:
            await ack()
            return False
        await ack(text=said)
        return True

    outcome = await claim_ack.claim_ack_deliver(acked, svc, sms, source)
    if outcome is not None:
        await tell_outcome(svc, outcome, respond)


def refused_in_ack(refusal: Outcome | None, usage: Callable[[], str]) -> str | None:
    """What a command's ack tells of the send service's refusal, or ``None`` (told later).

    ``usage`` words the command's usage line, for a refused text.
    """
    if isinstance(refusal, NotAllowed):
        return send_outcomes.not_allowed(refusal)
    if isinstance(refusal, OptedOut):
        return send_outcomes.opted_out(refusal)
    if isinstance(refusal, Unsendable):
        # the sentence may quote what was typed: escaped, as any bad input
        return escape(str(UsageError(text_refused(refusal.error), usage())))
    return None


def _send_usage() -> str:
    """The usage line of ``/sms send``, in the active locale."""
    return usage_line("send")


def outgoing(cmd: SendCommand) -> OutgoingSms:
    """The SMS a parsed ``/sms send`` asks for."""
    return OutgoingSms(
        recipient=cmd.recipient,
        text=cmd.text,
        sender=cmd.sender,
        schedule=cmd.at,
        validity=cmd.validity,
        flash=cmd.flash,
        campaign_name=cmd.name,
        shorten_links=cmd.shorten_links,
    )


def origin(command: dict[str, Any]) -> Origin:
    """Where a slash command came from; its ``trigger_id`` tells a redelivery from a new one."""
    return Origin(
        team_id=command.get("team_id", ""),
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        surface=Surface.SLASH_COMMAND,
        # Slack always sends one; without it, no delivery can be told from another
        duplicate_key=command.get("trigger_id") or f"none:{uuid.uuid4()}",
        response_url=command.get("response_url"),
    )


async def tell_outcome(svc: Services, outcome: Outcome, respond: AsyncRespond) -> None:
    """Tell the user what became of their send, privately.

    Sent, its channel post is asked of the notifier, and what came of it told (nothing, once
    posted: the post is the answer).
    """
    said = send_outcomes.render(outcome, await post_of(outcome, svc.first_post))
    if said is None:
        return
    await respond(text=said, response_type="ephemeral")


async def status(
    svc: Services, cmd: StatusCommand, command: dict[str, Any], respond: AsyncRespond
) -> None:
    """Answer ``/sms status``: the ids asked, or the latest SMS sent from this channel."""
    outcome = await svc.account.lookups.statuses(
        cmd.ids,
        team_id=command.get("team_id"),
        channel_id=command["channel_id"],
        anywhere=svc.config.may_read_all(command["user_id"]),
    )
    title = ngettext("Status of %(count)s SMS", "Status of %(count)s SMS", len(cmd.ids)) % {
        "count": formats.number(len(cmd.ids))
    }
    match outcome:
        case AllHidden(hidden):
            report = lookup_blocks.status_report([], [], title=title, hidden=list(hidden))
        case NoneSentHere():
            await respond(
                text=_("No SMS has been sent from this channel yet."), response_type="ephemeral"
            )
            return
        case LookupFailed(error):
            await respond(
                text=_(":warning: I could not get the status. %(why)s")
                % {"why": escape(describe(error))},
                response_type="ephemeral",
            )
            return
        case Statuses():
            report = _statuses_report(svc, outcome, title)
    await respond(text=report.text, blocks=report.blocks, response_type="ephemeral")


def _statuses_report(svc: Services, found: Statuses, title: str) -> SlackMessage:
    """The report of the statuses found (``title`` unless they are the channel's latest)."""
    if found.latest:
        shown = len(found.found) + len(found.missing)
        title = ngettext(
            "Latest %(count)s SMS sent from this channel",
            "Latest %(count)s SMS sent from this channel",
            shown,
        ) % {"count": formats.number(shown)}
    return lookup_blocks.status_report(
        list(found.found),
        list(found.missing),
        title=title,
        sandbox=svc.config.sandbox,
        hidden=list(found.hidden),
        costs={
            i: account_words.cost_note(sms.cost, sms.currency)
            for i, sms in found.records.items()
            if sms.cost is not None
        },
        settled=dict(found.settled),
    )


async def find(
    svc: Services, cmd: FindCommand, respond: AsyncRespond, *, replace_original: bool = False
) -> None:
    """Answer ``/sms find`` (and its Previous/Next buttons) with one page of results."""
    outcome = await svc.account.lookups.find(
        cmd.criteria, page=cmd.wire_page, page_size=cmd.page_size, sort=cmd.sort
    )
    if isinstance(outcome, LookupFailed):
        await respond(
            text=_(":warning: I could not search the SMS. %(why)s")
            % {"why": escape(describe(outcome.error))},
            response_type="ephemeral",
            replace_original=replace_original,
        )
        return
    page = outcome.page
    previous_value = find_button_value(cmd, cmd.page - 1) if cmd.page > 1 else None
    next_value = find_button_value(cmd, cmd.page + 1) if cmd.page < page.page_count else None
    message = lookup_blocks.find_results(
        page,
        people_page=cmd.page,
        previous_value=previous_value,
        next_value=next_value,
        sandbox=svc.config.sandbox,
        settled=dict(outcome.settled),
    )
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=replace_original,
    )
