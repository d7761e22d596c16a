"""``/sms template add|list|remove`` and ``/sms send --template``: saved texts, sent as any."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.mobizon.types import OutgoingSms
from bot.sending.segments import TooLongError, check_length
from handlers import send_outcomes
from handlers.context import Services
from handlers.grammar import (
    TemplateAddCommand,
    TemplateListCommand,
    TemplateRemoveCommand,
    TemplateSendCommand,
    UsageError,
)
from handlers.grammar.send import too_long
from handlers.grammar.templates import TemplateCommand, fill, template_send_usage
from handlers.mrkdwn import escape, unformatted, verbatim
from handlers.views import compose_text as say
from storage import templates


async def handle(
    ack: AsyncAck,
    cmd: TemplateCommand | TemplateSendCommand,
    command: dict[str, Any],
    svc: Services,
    *,
    send_one: Callable[[OutgoingSms], Awaitable[None]],
    respond: AsyncRespond,
) -> None:
    """Answer a template command; a template send is acked first, then sent with ``send_one``."""
    if isinstance(cmd, TemplateSendCommand):
        if not svc.sending.may_send(str(command["user_id"])):
            await ack(text=send_outcomes.not_allowed())
            return
        try:
            sms = await template_sms(cmd, command, svc)
        except UsageError as err:
            await ack(text=escape(str(err)))
            return
        await ack()
        await send_one(sms)
        return
    await manage(ack, cmd, command, svc, respond)


async def manage(
    ack: AsyncAck,
    cmd: TemplateCommand,
    command: dict[str, Any],
    svc: Services,
    respond: AsyncRespond,
) -> None:
    """Answer ``/sms template …``: saving and removing are for who may send.

    A list is answered in the ack; a save or a removal writes the database, which another
    connection may keep locked for a while, so it is acked first and its outcome told after.
    """
    team_id = str(command.get("team_id") or "")
    user_id = str(command["user_id"])
    if isinstance(cmd, TemplateListCommand):
        found = await svc.store.read(templates.list_templates, team_id=team_id)
        await ack(text=say.template_list([(verbatim(t.name), verbatim(t.text)) for t in found]))
        return
    if not svc.sending.may_send(user_id):
        await ack(text=send_outcomes.not_allowed())
        return
    await ack()
    if isinstance(cmd, TemplateAddCommand):
        added = await svc.store.write(
            templates.add_template, team_id=team_id, name=cmd.name, text=cmd.text, user_id=user_id
        )
        shown = verbatim(cmd.name)
        said = say.template_added(shown) if added else say.template_taken(shown)
    else:
        assert isinstance(cmd, TemplateRemoveCommand)  # noqa: S101  # the union's last member
        removed = await svc.store.write(templates.remove_template, team_id=team_id, name=cmd.name)
        shown = verbatim(cmd.name)
        said = say.template_removed(shown) if removed else say.template_unknown(shown)
    await respond(text=said, response_type="ephemeral")


async def template_sms(
    cmd: TemplateSendCommand, command: dict[str, Any], svc: Services
) -> OutgoingSms:
    """The SMS ``/sms send --template`` asks for; :class:`UsageError` when it cannot be made."""
    found = await svc.store.read(
        templates.get_template, team_id=str(command.get("team_id") or ""), name=cmd.name
    )
    if found is None:
        raise UsageError(say.template_unknown(unformatted(cmd.name)), template_send_usage())
    text = fill(found.text, dict(cmd.values))
    try:
        check_length(text)
    except TooLongError as err:
        raise UsageError(too_long(err), template_send_usage()) from err
    return OutgoingSms(recipient=cmd.recipient, text=text)
