"""The compose modal's listeners: open it, count as the user types, send on submit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.sending.outcomes import Outcome
from bot.sms.sending.types import Origin, Surface
from handlers import send_outcomes
from handlers.claim_ack import claim_ack_deliver
from handlers.context import Services, services
from handlers.first_posts import post_of
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape
from handlers.posting import slack_error, tell
from handlers.views import compose_text as say
from handlers.views.channel_check import channel_refusal
from handlers.views.compose import (
    CHANNEL,
    ComposeMeta,
    compose_view,
    text_block_id,
    with_count,
    with_template,
)
from handlers.views.compose_many import send_to_many
from handlers.views.compose_submission import ManySubmission, read_submission
from storage.templates import get_template, list_templates

logger = logging.getLogger(__name__)

#: How long the modal waits for Mobizon's sender names before offering free text (Slack's
#: trigger_id lasts 3 seconds).
SENDER_NAMES_WAIT = 1.2


async def sender_names(svc: Services) -> list[str]:
    """The account's sender names, or none when Mobizon does not list them quickly."""
    if svc.sender_names is None:
        return []
    try:
        async with asyncio.timeout(SENDER_NAMES_WAIT):
            names = await svc.sender_names()
    except Exception as err:  # free text is always possible  # noqa: BLE001
        logger.info("no sender names for the compose modal", extra={"error": type(err).__name__})
        return []
    return [name for name in names or () if name]


async def open_compose(
    svc: Services,
    client: AsyncWebClient,
    *,
    trigger_id: str,
    meta: ComposeMeta,
    team_id: str,
    text: str | Awaitable[str] = "",
    pick_channel: str | None = None,
) -> str | None:
    """Open the compose modal; Slack's error when it could not.

    ``text`` may still be in the making (a message's names looked up): it is awaited along with
    the templates and the sender names, so that together they keep within Slack's 3 seconds.
    """
    saved, names, initial = await asyncio.gather(
        svc.store.read(list_templates, team_id=team_id), sender_names(svc), _ready(text)
    )
    view = compose_view(
        templates=[t.name for t in saved],
        meta=meta,
        zone=svc.config.timezone,
        sender_names=names,
        text=initial,
        pick_channel=pick_channel,
        ask_channel=meta.channel_id is None,
    )
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as err:
        error = slack_error(err)
        logger.warning("could not open the compose modal", extra={"error": error})
        return error
    return None


async def _ready(text: str | Awaitable[str]) -> str:
    return text if isinstance(text, str) else await text


def not_opened(error: str) -> str:
    """What the person is told when the compose modal could not be opened."""
    return say.not_opened(escape(error))


async def handle_compose_command(
    ack: AsyncAck,
    command: dict[str, Any],
    svc: Services,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """``/sms`` alone: open the compose modal for someone who may send, in the command's channel.

    When Slack does not open it (the trigger expired), the person is told so privately.
    """
    if not svc.sending.may_send(str(command["user_id"])):
        await ack(text=send_outcomes.not_allowed())
        return
    await ack()
    error = await open_compose(
        svc,
        client,
        trigger_id=str(command.get("trigger_id") or ""),
        meta=ComposeMeta(str(command["channel_id"]), Surface.MODAL.value),
        team_id=str(command.get("team_id") or ""),
    )
    if error is not None:
        await respond(text=not_opened(error), response_type="ephemeral")


async def handle_compose_typed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Each character typed in the message: show its count; a stale update is dropped."""
    await ack()
    view = body.get("view") or {}
    actions = body.get("actions") or [{}]
    text = str(actions[0].get("value") or "")
    try:
        await client.views_update(
            view_id=view.get("id"), hash=view.get("hash"), view=with_count(view, text)
        )
    except SlackApiError as err:
        # hash_conflict: newer typing already updated the modal, which shows the newer count
        logger.info("compose count not updated", extra={"error": slack_error(err)})


async def handle_template_chosen(
    ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
) -> None:
    """A template chosen in the modal: its text in the message, one input per placeholder."""
    await ack()
    svc = services(context)
    view = body.get("view") or {}
    actions = body.get("actions") or [{}]
    name = str((actions[0].get("selected_option") or {}).get("value") or "")
    team_id = str((body.get("team") or {}).get("id") or "")
    found = await svc.store.read(get_template, team_id=team_id, name=name)
    if found is None:
        return
    try:
        await client.views_update(
            view_id=view.get("id"), hash=view.get("hash"), view=with_template(view, found.text)
        )
    except SlackApiError as err:
        logger.info("compose template not shown", extra={"error": slack_error(err)})


async def _channel_errors(
    client: AsyncWebClient, channel_id: str | None, meta: ComposeMeta, user_id: str, text_id: str
) -> dict[str, str] | None:
    """The field error when the submission has no channel, or one its sender may not post in."""
    if channel_id is None:
        return {text_id: _(say.NOT_IN_CHANNEL)}
    if meta.channel_id is None:  # picked in the form: any public channel is listed there
        refused = await channel_refusal(client, channel_id=channel_id, user_id=user_id)
        if refused is not None:
            return {CHANNEL: refused}
    return None


async def handle_compose_submit(
    ack: AsyncAck,
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
) -> None:
    """Send the composed SMS once: errors shown in the modal, or the modal closes and it goes.

    The send is claimed before the modal closes (:func:`~handlers.claim_ack.claim_ack_deliver`):
    a claim refused in time (the database could not save it) is a field error, the modal open.
    """
    svc = services(context)
    view: dict[str, Any] = body.get("view") or {}
    user_id = str((body.get("user") or {}).get("id") or "")
    text_id = text_block_id(view)  # a template chosen renamed it: errors go on the one shown
    if not svc.sending.may_send(user_id):
        await ack(response_action="errors", errors={text_id: send_outcomes.not_allowed()})
        return
    now = datetime.now(svc.config.timezone).replace(microsecond=0)
    read = read_submission(view, default_region=svc.config.default_region, now=now)
    if isinstance(read, dict):
        await ack(response_action="errors", errors=read)
        return
    meta = ComposeMeta.load(view.get("private_metadata"))
    refused = await _channel_errors(client, read.channel_id, meta, user_id, text_id)
    if refused is not None:
        await ack(response_action="errors", errors=refused)
        return
    assert read.channel_id is not None  # noqa: S101  # for the type checker: refused above
    surface = Surface(meta.surface) if meta.surface in set(Surface) else Surface.MODAL
    origin = Origin(
        team_id=str((body.get("team") or {}).get("id") or ""),
        channel_id=read.channel_id,
        user_id=user_id,
        surface=surface,
        # a submission Slack delivers twice carries the same view
        duplicate_key=f"view:{view.get('id')}",
    )
    if isinstance(read, ManySubmission):
        # Slack waits 3 seconds for the answer: the modal closes now, the file is read after
        await ack()
        await send_to_many(svc, client, read, origin)
        return

    async def acked(refusal: Outcome | None) -> bool:
        # a send refused before anything was recorded keeps the modal open, saying why
        said = None if refusal is None else say.claim_refused(refusal)
        if said is None:
            await ack()  # the modal closes: the send is claimed, or told once its claim is
            return False
        await ack(response_action="errors", errors={text_id: said})
        return True

    outcome = await claim_ack_deliver(acked, svc, read.sms, origin)
    if outcome is None:
        return
    said = send_outcomes.render(outcome, await post_of(outcome, svc.first_post))
    if said is not None:
        await tell(client, channel_id=read.channel_id, user_id=user_id, text=said)
