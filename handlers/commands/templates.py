"""``/sms template add|list|remove`` and ``/sms send --template``: saved texts, sent as any."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.mobizon import OutgoingSms
from bot.sms.sending.outcomes import NotAllowed
from bot.sms.sending.templates import (
    AddOutcome,
    RemoveOutcome,
    TemplateAdded,
    TemplateRemoved,
    TemplatesBusy,
    TemplateTaken,
    TemplateUnknown,
)
from bot.sms.sending.text import find_control
from handlers import send_outcomes
from handlers.context import Services
from handlers.grammar import (
    TemplateAddCommand,
    TemplateListCommand,
    TemplateSendCommand,
    UsageError,
)
from handlers.grammar.templates import (
    TemplateCommand,
    body_problem,
    fill,
    saved_body_refused,
    template_send_usage,
)
from handlers.mrkdwn import escape, escape_short, unformatted, verbatim
from handlers.views import compose_text as say
from storage import templates

logger = logging.getLogger(__name__)

#: Templates a page of ``/sms template list`` shows: with each text cut to :data:`PREVIEW`
#: characters, a page stays far below Slack's 40,000 characters a message.
PAGE_SIZE = 20
#: The characters of a template's text the list shows (the compose form shows it whole).
PREVIEW = 200
#: How the list shows a line break of a template's text: every template stays on one line.
LINE_BREAK = " ↵ "
#: U+2400, where Unicode's pictures of the C0 controls (U+0000 to U+001F) begin.
_CONTROL_PICTURES = 0x2400
_C0_END = 0x20
_DELETE, _DELETE_PICTURE = 0x7F, "\u2421"


def preview(text: str) -> str:
    """``text`` as the list shows it: on one line, line breaks marked ↵, cut, escaped.

    A control character (in a template saved before they were refused) is shown as its
    Unicode control picture (␀) or its code (U+0090), never as itself.
    """
    # cut one past the preview first: what is longer stays longer, so it is still marked cut
    one_line = LINE_BREAK.join(text.splitlines())[: PREVIEW + 1]
    return escape_short("".join(map(_visible, one_line)), PREVIEW)


def _visible(char: str) -> str:
    """``char`` itself, or the picture or code of a control character (tab is kept)."""
    return char if find_control(char) is None else _picture(char)


def _picture(char: str) -> str:
    code = ord(char)
    if code < _C0_END:
        return chr(_CONTROL_PICTURES + code)
    if code == _DELETE:
        return _DELETE_PICTURE
    return f"U+{code:04X}"


def template_page(found: list[templates.Template], page: int) -> str:
    """Page ``page`` (from 1) of the templates ``found``, and how to see those not shown."""
    pages = max(1, -(-len(found) // PAGE_SIZE))
    if page > pages:
        return say.template_list_no_page(page, pages)
    start = (page - 1) * PAGE_SIZE
    shown = found[start : start + PAGE_SIZE]
    said = say.template_list(
        [(verbatim(t.name), preview(t.text)) for t in shown], first=start + 1, total=len(found)
    )
    if start + len(shown) < len(found):
        more = say.template_list_more(
            shown_to=start + len(shown), total=len(found), next_page=page + 1
        )
        said = f"{said}\n{more}"
    return said


async def handle(
    ack: AsyncAck,
    cmd: TemplateCommand | TemplateSendCommand,
    command: dict[str, Any],
    svc: Services,
    *,
    send_one: Callable[[OutgoingSms], Awaitable[None]],
    respond: AsyncRespond,
) -> None:
    """Answer a template command; a template send goes to ``send_one``, which acks it.

    ``send_one`` records the send, acknowledges the command, then sends it (as ``/sms send``).
    """
    if isinstance(cmd, TemplateSendCommand):
        try:
            sms = await template_sms(cmd, command, svc)
        except UsageError as err:
            await ack(text=escape(str(err)))
            return
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
        await ack(text=template_page(found, cmd.page))
        return
    if not svc.account.templates.may_manage(user_id):
        # answered in the ack, as every refusal made before anything is written
        await ack(text=send_outcomes.not_allowed())
        return
    await ack()
    keeping = svc.account.templates
    if isinstance(cmd, TemplateAddCommand):
        added = await keeping.add(team_id=team_id, name=cmd.name, text=cmd.text, user_id=user_id)
        said = added_said(added)
    else:
        removed = await keeping.remove(team_id=team_id, name=cmd.name, user_id=user_id)
        said = removed_said(removed)
    await respond(text=said, response_type="ephemeral")


def added_said(outcome: AddOutcome) -> str:
    """What saving a template tells."""
    match outcome:
        case TemplateAdded(name):
            return say.template_added(verbatim(name))
        case TemplateTaken(name):
            return say.template_taken(verbatim(name))
        case TemplatesBusy(_, adding):
            return say.template_busy(adding=adding)
        case NotAllowed():
            return send_outcomes.not_allowed(outcome)


def removed_said(outcome: RemoveOutcome) -> str:
    """What removing a template tells."""
    match outcome:
        case TemplateRemoved(name):
            return say.template_removed(verbatim(name))
        case TemplateUnknown(name):
            return say.template_unknown(verbatim(name))
        case TemplatesBusy(_, adding):
            return say.template_busy(adding=adding)
        case NotAllowed():
            return send_outcomes.not_allowed(outcome)


async def template_sms(
    cmd: TemplateSendCommand, command: dict[str, Any], svc: Services
) -> OutgoingSms:
    """The SMS ``/sms send --template`` asks for; :class:`UsageError` when it cannot be made."""
    found = await svc.store.read(
        templates.get_template, team_id=str(command.get("team_id") or ""), name=cmd.name
    )
    if found is None:
        raise UsageError(say.template_unknown(unformatted(cmd.name)), template_send_usage())
    # saved before today's limits: its placeholders are not worth asking for
    problem = body_problem(found.text)
    if problem is not None:
        raise UsageError(saved_body_refused(verbatim(found.name), problem), template_send_usage())
    # what every SMS text must be, the send service checks (bot.sms.sending.text.check_text)
    return OutgoingSms(recipient=cmd.recipient, text=fill(found.text, dict(cmd.values)))
