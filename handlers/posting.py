"""Slack posts shared by the ``/sms send`` listener and delivery tracking.

The SMS's channel message (joining a public channel when Slack requires it, its ts stored so
updates can edit it) and the sender's direct-message channel.

A channel is shared: what is posted in one is in the workspace language, passed explicitly
(``language``), whatever the language of the request that posts it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon.types import Balance
from bot.sending.service import PostSent
from handlers import account_words, blocks
from handlers.i18n import use_locale
from storage import claims, records
from storage.store import Store

if TYPE_CHECKING:  # the services import the languages, which name errors as this module does
    from handlers.context import Services

logger = logging.getLogger(__name__)

_JOINABLE_ERRORS = frozenset({"not_in_channel", "channel_not_found"})


def slack_error(err: SlackApiError) -> str:
    """Slack's ``error`` field, or ``http_<status>`` when the answer was not Slack's JSON."""
    data = err.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{err.response.status_code}"


def error_name(err: BaseException) -> str:
    """Slack's error name for a Slack API error, else the exception's type: never its request."""
    return slack_error(err) if isinstance(err, SlackApiError) else type(err).__name__


async def post_sms_message(
    client: AsyncWebClient,
    store: Store,
    sms: records.SmsRecord,
    *,
    language: str,
    extra_blocks: Sequence[dict[str, Any]] = (),
    zone: tzinfo | None = None,
) -> str | None:
    """Post the SMS's message in its channel and store its ts; Slack's error if it could not.

    A public channel the bot is not in is joined once; for a private one only an invite helps.
    ``language`` is the workspace's (the post is rendered in it, ``extra_blocks`` are the
    caller's); ``zone`` is the Mobizon account's time zone, in which a scheduled time is shown.
    """
    with use_locale(language):
        message = blocks.sms_message(sms, zone=zone)
    payload = {"text": message.text, "blocks": [*message.blocks, *extra_blocks]}
    error = await _post(client, store, sms, payload)
    if error in _JOINABLE_ERRORS and await _join(client, sms.channel_id):
        error = await _post(client, store, sms, payload)
    if error is not None:
        logger.warning(
            "could not post the SMS message",
            extra={"sms_id": sms.message_id, "channel": sms.channel_id, "error": error},
        )
    return error


def sms_poster(client: AsyncWebClient, svc: Services) -> PostSent:
    """What posts a sent SMS's message in its channel, for the send service.

    In the workspace language, whatever the sender's, and times in the account's zone.
    """

    async def post(sms: records.SmsRecord) -> str | None:
        return await post_sms_message(
            client, svc.store, sms, language=svc.config.language, zone=svc.config.timezone
        )

    return post


async def _post(
    client: AsyncWebClient, store: Store, sms: records.SmsRecord, payload: dict[str, Any]
) -> str | None:
    try:
        response = await client.chat_postMessage(channel=sms.channel_id, **payload)
    except SlackApiError as err:
        return slack_error(err)
    ts = response.get("ts")
    if isinstance(ts, str):
        channel = response.get("channel") or sms.channel_id
        # Slack has the post: its ts must be kept, or updates would go to a DM instead
        await store.write_retrying(claims.set_slack_message, sms.id, channel=str(channel), ts=ts)
    return None


async def open_direct_message(client: AsyncWebClient, user_id: str) -> str:
    """The bot's DM channel with ``user_id`` (``conversations.open``), or the user id itself.

    Slack also takes a user id as a channel: the message then goes to the app's DM.
    """
    opened = await client.conversations_open(users=user_id)
    channel = opened.get("channel")
    dm = channel.get("id") if isinstance(channel, dict) else None
    return dm if isinstance(dm, str) and dm else user_id


async def tell(client: AsyncWebClient, *, channel_id: str, user_id: str, text: str) -> None:
    """Tell the user privately in the channel, or in a direct message when that fails.

    Without a channel (a modal's submission), straight in a direct message.
    """
    if channel_id:
        try:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        except SlackApiError:
            pass
        else:
            return
    with contextlib.suppress(SlackApiError):
        await client.chat_postMessage(channel=user_id, text=text)


async def _join(client: AsyncWebClient, channel: str) -> bool:
    """Join a public channel; False for private channels and DMs, where only an invite helps."""
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as err:
        logger.info("could not join channel", extra={"channel": channel, "error": slack_error(err)})
        return False
    return True


async def post_balance_alert(
    client: AsyncWebClient,
    channel: str,
    threshold: Decimal,
    low: bool,
    balance: Balance,
    *,
    language: str,
) -> None:
    """Tell ``channel`` the balance dropped below ``threshold`` (``low``) or is back above it.

    In the workspace ``language``, like every channel post.
    """
    words = account_words.low_balance_alert if low else account_words.balance_recovered
    with use_locale(language):
        text = words(balance.amount, balance.currency, threshold)
    await client.chat_postMessage(channel=channel, text=text)
