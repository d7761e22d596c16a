"""Previous/Next buttons under ``/sms find`` results: fetch the neighbouring page."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers.commands.sms import FIND_REFUSED, find
from handlers.context import services
from handlers.grammar import UsageError, parse_find_button
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape


async def handle_find_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond,
) -> None:
    """Replace the results message with the page the button names.

    Registered through :func:`~handlers.errors.reporting_errors`, which answers what escapes.
    """
    await ack()
    user = body.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    if not services(context).config.may_read_all(user_id):
        await respond(text=_(FIND_REFUSED), response_type="ephemeral", replace_original=False)
        return
    try:
        cmd = parse_find_button(str(action.get("value", "")))
    except UsageError as err:
        await respond(text=escape(str(err)), response_type="ephemeral", replace_original=False)
        return
    await find(services(context), cmd, respond, replace_original=True)
