"""Slack posts shared by the listeners and delivery tracking, and Slack's error names.

The sender's direct-message channel, a private word to a user, the low-balance alert. (The SMS's
channel message is the notifier's: :mod:`handlers.first_posts`.)

A channel is shared: what is posted in one is in the workspace language, passed explicitly
(``language``), whatever the language of the request that posts it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import Balance
from handlers import account_words
from handlers.i18n import use_locale


def slack_error(err: SlackApiError) -> str:
    """Slack's ``error`` field, or ``http_<status>`` when the answer was not Slack's JSON."""
    data = err.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{err.response.status_code}"


def error_name(err: BaseException) -> str:
    """Slack's error name for a Slack API error, else the exception's type: never its request."""
    return slack_error(err) if isinstance(err, SlackApiError) else type(err).__name__


async def open_direct_message(client: AsyncWebClient, user_id: str) -> str:
    """The bot's DM channel with ``user_id`` (``conversations.open``), or the user id itself.

    Slack also takes a user id as a channel: the message then goes to the app's DM.
    """
    opened = await client.conversations_open(users=user_id)
    channel = opened.get("channel")
    dm = channel.get("id") if isinstance(channel, dict) else None
    return dm if isinstance(dm, str) and dm else user_id


async def tell(
    client: AsyncWebClient,
    *,
    channel_id: str,
    user_id: str,
    text: str,
    blocks: Sequence[dict[str, Any]] | None = None,
) -> None:
    """Tell the user privately in the channel, or in a direct message when that fails.

    Without a channel (a modal's submission), straight in a direct message. ``blocks``, when
    given, are what Slack shows (``text`` is the notification's).
    """
    if channel_id:
        try:
            await client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=blocks
            )
        except SlackApiError:
            pass
        else:
            return
    with contextlib.suppress(SlackApiError):
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


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
