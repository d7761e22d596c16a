"""The notifier's own posts: the outcome's DM, the metadata marking a reply, when one is owed.

The final thread reply and the DM carry message metadata (:data:`REPLY_EVENT`), so that a
restarted notifier finds a post that reached Slack unseen instead of posting it twice.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks import SlackMessage, final_reply
from handlers.i18n import gettext as _
from handlers.i18n import use_locale
from handlers.languages import BACKGROUND_WAIT, PeopleLanguages
from storage import outbox
from storage.records import SmsRecord

#: Message metadata event type of the final thread reply, so a restart can find it in Slack.
REPLY_EVENT = "smsbot_final_status"


#: What names the outcome of a row without a Mobizon status, as releases before outbox kinds
#: wrote it in its reply's metadata: a reply posted by one of them is still found.
_OUTCOME_KEYS = {
    outbox.NotificationKind.POST: "POST",
    outbox.NotificationKind.COST: "COST",
    outbox.NotificationKind.DECLINED: "DECLINED",
    outbox.NotificationKind.GIVEUP: "GAVEUP",
}


def outcome_key(note: outbox.Notification) -> str:
    """What names the outcome a row reports, in its reply's metadata and the logs.

    Mobizon's status for a ``status`` row, else a name for its kind.
    """
    return note.status or _OUTCOME_KEYS[note.kind]


def reply_metadata(message_id: int, status: str) -> dict[str, Any]:
    """The metadata of the outcome's post for (SMS, outcome key)."""
    return {
        "event_type": REPLY_EVENT,
        "event_payload": {"message_id": message_id, "status": status},
    }


def is_reply(message: object, message_id: int, status: str) -> bool:
    """Whether a message Slack returned is the outcome's post for (SMS, outcome key)."""
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


async def outcome_for_sender(
    sms: SmsRecord,
    slack: AsyncWebClient,
    languages: PeopleLanguages | None,
    *,
    workspace: str,
) -> SlackMessage:
    """The final outcome as the DM to the SMS's sender, in their language (else ``workspace``)."""
    locale = workspace
    if languages is not None:
        locale = await languages.locale_of(sms.user_id, slack, wait=BACKGROUND_WAIT)
    with use_locale(locale):
        return direct_message(final_reply(sms))


def reply_owed(note: outbox.Notification) -> bool:
    """A thread reply is owed for final statuses, give-ups and declines, until Slack took it.

    A give-up or decline whose SMS turned final meanwhile owes none: the final status's own row
    says more.
    """
    if note.reply_done:
        return False
    return not (note.kind in _GIVE_UPS and note.sms.is_final)


_GIVE_UPS = frozenset({outbox.NotificationKind.GIVEUP, outbox.NotificationKind.DECLINED})
