"""Where the global shortcut's form may post: a conversation its sender is in, smsbot can post in.

Slack's channel picker lists every public channel, joined or not: without this check the SMS's
number and text would be posted in a channel its sender never joined.

One ``conversations.members`` call answers both questions for a channel of up to 1,000 people
(more only page on until the sender is found): the sender is a member, and smsbot can see the
channel, which for a private channel means it was invited (a public one it joins to post).
The sender's direct messages with smsbot, the picker's default, are recognised by
``conversations.open`` instead, so no ``im:read`` scope is needed; any other direct message is
one smsbot cannot post in.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.posting import open_direct_message, slack_error

logger = logging.getLogger(__name__)

#: Members asked per ``conversations.members`` page (Slack's largest page).
MEMBERS_PAGE = 1000
#: How long Slack may take to answer: the submission's answer is due within Slack's 3 seconds.
CHECK_WAIT = 2.0
#: Slack's answers for a conversation smsbot cannot see: a private channel it was not invited
#: to, or a direct message between other people.
#: (``missing_scope`` is not among them: a workspace that has not granted ``groups:read`` yet
#: is a check that failed, logged for whoever runs smsbot, not advice to invite smsbot.)
_UNSEEN = frozenset({"channel_not_found", "not_in_channel"})

NOT_A_MEMBER = N_(
    "You are not a member of that channel, so nothing was sent. Pick a channel you are in: "
    "the SMS's number and text are posted there."
)
NOT_REACHABLE = N_(
    "smsbot cannot post in that conversation, so nothing was sent. Pick a channel you are in, "
    "or invite @smsbot to that private channel first (/invite @smsbot)."
)


def check_failed(error: str) -> str:
    """Slack did not say whether the sender is in the channel."""
    return _(
        "Slack did not tell me whether you are in that channel (%(error)s), so nothing was sent. "
        "Try again in a moment."
    ) % {"error": error}


async def channel_refusal(client: AsyncWebClient, *, channel_id: str, user_id: str) -> str | None:
    """Why ``user_id``'s SMS may not be posted in ``channel_id`` (a field error), or ``None``."""
    try:
        async with asyncio.timeout(CHECK_WAIT):
            return await _refusal(client, channel_id, user_id)
    except SlackApiError as err:
        error = slack_error(err)
        if error in _UNSEEN:
            return _(NOT_REACHABLE)
    except (TimeoutError, aiohttp.ClientError) as err:
        error = type(err).__name__
    logger.warning("could not check the picked channel's members", extra={"error": error})
    return check_failed(error)


async def _refusal(client: AsyncWebClient, channel_id: str, user_id: str) -> str | None:
    # Slack's direct-message ids start with D; any other id is asked about as a channel
    if channel_id.startswith("D"):
        mine = await open_direct_message(client, user_id)
        return None if mine == channel_id else _(NOT_REACHABLE)
    cursor = ""
    while True:
        page = await client.conversations_members(
            channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor or None
        )
        if user_id in (page.get("members") or ()):
            return None
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return _(NOT_A_MEMBER)
