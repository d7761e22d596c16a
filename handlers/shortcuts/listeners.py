"""The "Send as SMS" message shortcut and the global "Send an SMS" shortcut: both open compose."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.sending.types import Surface
from handlers import send_outcomes
from handlers.context import services
from handlers.posting import open_direct_message, tell
from handlers.shortcuts.plain_text import to_plain_text
from handlers.slack_files import is_csv
from handlers.views.compose import ComposeMeta
from handlers.views.compose_fields import FILE_ID
from handlers.views.listeners import not_opened, open_compose

logger = logging.getLogger(__name__)

MESSAGE_SHORTCUT = "send_as_sms"
GLOBAL_SHORTCUT = "compose_sms"
#: How long a mention's name is waited for: the modal must open within Slack's 3 seconds
#: (a name not found in time stays an id).
NAME_WAIT = 1.0


async def handle_message_shortcut(
    ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
) -> None:
    """Open the compose modal with the message's text, posting to the message's channel.

    A message with a CSV file attached opens it with that file chosen (a send to many).
    """
    await ack()
    svc = services(context)
    user_id = str((body.get("user") or {}).get("id") or "")
    channel_id = str((body.get("channel") or {}).get("id") or "")
    if not svc.sending.may_send(user_id):
        await tell(client, channel_id=channel_id, user_id=user_id, text=send_outcomes.not_allowed())
        return
    message = body.get("message") or {}
    raw = str(message.get("text") or "")
    attached = attached_csv(message)

    async def user_name(user: str) -> str | None:
        try:
            async with asyncio.timeout(NAME_WAIT):
                found = await client.users_info(user=user)
        except (SlackApiError, TimeoutError):
            return None
        info = found.get("user") or {}
        profile = info.get("profile") or {}
        return str(profile.get("display_name") or info.get("real_name") or info.get("name") or "")

    async def channel_name(channel: str) -> str | None:
        try:
            async with asyncio.timeout(NAME_WAIT):
                found = await client.conversations_info(channel=channel)
        except (SlackApiError, TimeoutError):
            return None
        return str((found.get("channel") or {}).get("name") or "") or None

    error = await open_compose(
        svc,
        client,
        trigger_id=str(body.get("trigger_id") or ""),
        meta=ComposeMeta(
            channel_id or None,
            Surface.MESSAGE_SHORTCUT.value,
            file_id=attached[0] if attached else None,
            file_name=attached[1] if attached else None,
        ),
        team_id=str((body.get("team") or {}).get("id") or ""),
        # the names are looked up while the sender names are: Slack's trigger lasts 3 seconds
        text=to_plain_text(raw, user_name=user_name, channel_name=channel_name),
    )
    if error is not None:
        await tell(client, channel_id=channel_id, user_id=user_id, text=not_opened(error))


def attached_csv(message: dict[str, Any]) -> tuple[str, str] | None:
    """The id and name of the first CSV file attached to ``message``, if it has one."""
    files = message.get("files")
    for found in files if isinstance(files, list) else ():
        if isinstance(found, dict) and isinstance(found.get("id"), str) and is_csv(found):
            if FILE_ID.fullmatch(found["id"]) is None:
                continue
            return found["id"], str(found.get("name") or found.get("title") or found["id"])
    return None


async def handle_global_shortcut(
    ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
) -> None:
    """Open the compose modal with a channel picker set to the user's direct messages with me."""
    await ack()
    svc = services(context)
    user_id = str((body.get("user") or {}).get("id") or "")
    if not svc.sending.may_send(user_id):
        try:
            await client.chat_postMessage(channel=user_id, text=send_outcomes.not_allowed())
        except SlackApiError:
            logger.warning("could not tell a user they may not send")
        return
    direct: str | None = None
    try:
        dm = await open_direct_message(client, user_id)
        direct = dm if dm != user_id else None  # the picker takes a conversation, not a user
    except SlackApiError:
        logger.info("no direct message channel to offer in the compose modal")
    error = await open_compose(
        svc,
        client,
        trigger_id=str(body.get("trigger_id") or ""),
        meta=ComposeMeta(None, Surface.GLOBAL_SHORTCUT.value),
        team_id=str((body.get("team") or {}).get("id") or ""),
        pick_channel=direct,
    )
    if error is not None:
        await tell(client, channel_id=direct or user_id, user_id=user_id, text=not_opened(error))
