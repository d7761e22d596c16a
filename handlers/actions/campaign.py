"""The preview's buttons: "Send to N" confirms the campaign and runs it; "Cancel" cancels it.

Both acknowledge the click first (Slack wants it within 3 s), then ask the campaign service,
which lets only the asker decide, once, before the preview expires. The asker is the person of
the workspace the send was asked in: the same user id in a click from another workspace decides
nothing. "Send to N" also needs the asker to still be allowed to send (``SMSBOT_ALLOWED_USERS``
may have changed since the preview). What happened replaces the preview; a click that did
nothing (another person's, a second one, a late one) is told to whoever clicked, in a message of
its own, and the preview stays. A confirmed campaign is run even when Slack could not be told it
was confirmed: nothing else would send it.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.sms.sending.campaign_types import Cancelled, Confirmed
from handlers import campaign_answers, send_outcomes
from handlers.campaign_preview import campaign_id_of
from handlers.context import Services, campaign_service, services
from handlers.i18n import gettext as _

__all__ = ["handle_cancel", "handle_confirm"]

logger = logging.getLogger(__name__)


def _clicked(action: dict[str, Any], body: dict[str, Any]) -> tuple[int | None, str]:
    """The campaign id the button carries and who clicked it."""
    user = body.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    return campaign_id_of(action.get("value")), user_id


def _team(body: dict[str, Any]) -> str:
    """The workspace the click came from (``""`` when Slack did not say)."""
    team = body.get("team")
    return str(team.get("id") or "") if isinstance(team, dict) else ""


async def _told(respond: AsyncRespond, text: str) -> None:
    """Tell whoever clicked, in a message of its own: the preview stays as it is."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def _click(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond,
    *,
    to_send: bool,
) -> tuple[Services, int, str] | None:
    """Acknowledge the click; the services, the campaign and who clicked, or ``None`` (told why).

    Nothing is decided for a button with no campaign, nor, for ``to_send``, by someone no
    longer allowed to send (the service refuses a click from another workspace).
    """
    await ack()
    campaign_id, user_id = _clicked(action, body)
    if campaign_id is None:
        await _not_a_campaign(respond)
        return None
    svc = services(context)
    if to_send and not svc.sending.may_send(user_id):
        await _told(respond, send_outcomes.not_allowed())
        return None
    return svc, campaign_id, user_id


async def _not_a_campaign(respond: AsyncRespond) -> None:
    """The button carried no campaign id (nothing Slack sends for our buttons)."""
    await _told(respond, _("This button names no send I know; nothing was done."))


async def handle_confirm(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond,
) -> None:
    """Confirm the campaign on "Send to N" (its asker, once, in time), then run it.

    Registered through :func:`~handlers.errors.reporting_errors`, which answers what escapes.
    """
    clicked = await _click(ack, action, body, context, respond, to_send=True)
    if clicked is None:
        return
    svc, campaign_id, user_id = clicked
    campaigns = campaign_service(svc)
    decided = await campaigns.confirm(campaign_id, user_id, team_id=_team(body))
    if not isinstance(decided, Confirmed):
        await _told(respond, campaign_answers.confirm_refused(decided, zone=svc.config.timezone))
        return
    try:
        await respond(
            text=campaign_answers.confirmed(decided.recipients),
            response_type="ephemeral",
            replace_original=True,
        )
    except (aiohttp.ClientError, TimeoutError) as err:  # confirmed: it is sent all the same
        logger.warning(
            "slack could not be told a campaign was confirmed; sending it",
            extra={"campaign": decided.campaign_id, "error": type(err).__name__},
        )
    outcome = await campaigns.run(decided.campaign_id)
    await respond(
        text=campaign_answers.ran(outcome), response_type="ephemeral", replace_original=True
    )


async def handle_cancel(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    respond: AsyncRespond,
) -> None:
    """Cancel the preview on "Cancel" (its asker, before it is decided); nothing is sent.

    Registered through :func:`~handlers.errors.reporting_errors`, which answers what escapes.
    """
    clicked = await _click(ack, action, body, context, respond, to_send=False)
    if clicked is None:
        return
    svc, campaign_id, user_id = clicked
    decided = await campaign_service(svc).cancel(campaign_id, user_id, team_id=_team(body))
    if not isinstance(decided, Cancelled):
        await _told(respond, campaign_answers.confirm_refused(decided, zone=svc.config.timezone))
        return
    await respond(
        text=campaign_answers.cancelled(), response_type="ephemeral", replace_original=True
    )
