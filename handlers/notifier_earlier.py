"""Looking in Slack for an earlier post of an outbox row, found by its message metadata.

The notifier's posts (an SMS's first channel post, the outcome's thread reply, its DM) carry
message metadata. A post whose attempt may have reached Slack unseen (a row older than this
process, or an attempt that got no answer) is first looked for among the messages Slack returns
(``conversations.history`` or ``conversations.replies`` with ``include_all_metadata``), so a
restart does not post it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.posting import slack_error
from handlers.slack_failures import transient

logger = logging.getLogger(__name__)


async def earlier_posts(
    fetch: Callable[[], Awaitable[Any]],
    matches: Callable[[dict[str, Any]], bool],
    *,
    sms_id: int | None,
    what: str,
) -> list[dict[str, Any]] | None:
    """The messages ``fetch`` reads that ``matches`` tells are the post (by its metadata).

    ``None`` when Slack will not let us look (e.g. ``missing_scope`` where the history scope is
    not granted, ``not_in_channel``): logged, and the caller posts, accepting a rare duplicate.
    A refusal that may pass (Slack unwell, a 429) is raised: look again later rather than risk a
    second post. ``what`` names the post in that log line ("the SMS", "the outcome").
    """
    try:
        answer = await fetch()
    except SlackApiError as err:
        if transient(err):
            raise
        logger.info(
            "could not look for an earlier post of %s; posting it",
            what,
            extra={"sms_id": sms_id, "error": slack_error(err)},
        )
        return None
    return [
        message
        for message in answer.get("messages") or []
        if isinstance(message, dict) and matches(message)
    ]
