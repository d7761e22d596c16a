"""Block Kit of the notifier's own posts: the outcome's DM, and the metadata marking a reply.

The final thread reply and the DM carry message metadata (:data:`REPLY_EVENT`), so that a
restarted notifier finds a post that reached Slack unseen instead of posting it twice.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from handlers.blocks import SlackMessage
from handlers.i18n import gettext as _

#: Message metadata event type of the final thread reply, so a restart can find it in Slack.
REPLY_EVENT = "smsbot_final_status"


def reply_metadata(message_id: int, status: str) -> dict[str, Any]:
    """The metadata of the outcome's post for (SMS, status)."""
    return {
        "event_type": REPLY_EVENT,
        "event_payload": {"message_id": message_id, "status": status},
    }


def is_reply(message: object, message_id: int, status: str) -> bool:
    """Whether a message Slack returned is the outcome's post for (SMS, status)."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != REPLY_EVENT:
        return False
    payload = metadata.get("event_payload") or {}
    return (
        isinstance(payload, dict)
        and str(payload.get("message_id")) == str(message_id)
        and payload.get("status") == status
    )


def direct_message(reply: SlackMessage) -> SlackMessage:
    """The final reply sent to the SMS's sender, saying why it comes as a DM."""
    gone = _("I could not update the channel message about this SMS, so the outcome comes to you.")
    context = ContextBlock(elements=[MarkdownTextObject(text=gone)])
    return SlackMessage(text=reply.text, blocks=[*reply.blocks, context.to_dict()])
