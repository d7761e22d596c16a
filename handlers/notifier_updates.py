"""The Slack side of every outbox row but the SMS's first post: the edit and the outcome's post.

Part of the notifier (:mod:`handlers.notifier`), which records each step as Slack accepts it. A
row edits the SMS's channel message (``chat.update``) to show its status now; a row that owes
one (:func:`notifier_posts.reply_owed`) then posts the outcome in the message's thread, or to
the SMS's sender directly when the message or its channel is gone (or was never posted). The
thread reply and the DM carry message metadata: one that may have reached Slack unseen is first
looked for (:func:`handlers.notifier_earlier.earlier_posts`), in the thread
(``conversations.replies``, which needs ``channels:history`` / ``groups:history``) or in the DM's
recent history (``conversations.history``, which needs ``im:history``); without those scopes it
is posted, and a duplicate stays possible in that narrow case.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import blocks, notifier_posts
from handlers.languages import PeopleLanguages
from handlers.notifier_earlier import earlier_posts
from handlers.notifier_posts import outcome_key
from handlers.pacing import ChannelPacer
from handlers.posting import open_direct_message, slack_error
from handlers.slack_failures import GONE_ERRORS
from storage import outbox

logger = logging.getLogger(__name__)


class SmsUpdates:
    """The edits of SMS's channel messages and the posts of their outcomes, for the notifier."""

    def __init__(
        self,
        slack: AsyncWebClient,
        pacer: ChannelPacer,
        *,
        zone: tzinfo | None,
        language: str,
        languages: PeopleLanguages | None,
        unsure: set[int],
        maybe_posted: Callable[[outbox.Notification], bool],
    ) -> None:
        self._slack = slack
        self._pacer = pacer
        self._zone = zone  # the Mobizon account's: scheduled times are shown in it
        self._language = language  # the workspace's: a sender's DM falls back to it
        self._languages = languages  # each sender's, for the outcomes sent to them directly
        # the notifier's rows whose attempt may have reached Slack unseen
        self._unsure = unsure
        # the notifier's: whether an earlier attempt may have posted a row's outcome unseen
        self._maybe_posted = maybe_posted

    async def update(self, note: outbox.Notification) -> bool:
        """Edit the SMS's channel message to show its status now; ``False`` when it is gone."""
        sms = note.sms
        if not (sms.slack_channel and sms.slack_ts):
            return False  # never posted in the channel: the final outcome goes to the sender
        message = blocks.sms_message(sms, zone=self._zone)
        try:
            async with self._pacer.slot(sms.slack_channel):
                await self._slack.chat_update(
                    channel=sms.slack_channel,
                    ts=sms.slack_ts,
                    text=message.text,
                    blocks=message.blocks,
                )
        except SlackApiError as err:
            if slack_error(err) not in GONE_ERRORS:
                raise
            logger.info(
                "the SMS's channel message is gone; not updated",
                extra={"sms_id": sms.message_id, "error": slack_error(err)},
            )
            return False
        return True

    async def reply(self, note: outbox.Notification, *, in_channel: bool) -> None:
        """Post the final outcome in the SMS's thread, or to its sender when that is gone."""
        sms = note.sms
        reply = blocks.final_reply(sms)
        if in_channel and sms.slack_channel and sms.slack_ts:
            if self._maybe_posted(note) and await self._already_replied(note):
                logger.info(
                    "thread reply found in Slack already; not posted again",
                    extra={"sms_id": sms.message_id, "status": outcome_key(note)},
                )
                return
            # unsure from here until the reply step is recorded done: an attempt that ends any
            # other way (an error after Slack acted, a crash, a failed write) looks first
            try:
                async with self._pacer.slot(sms.slack_channel):
                    self._unsure.add(note.id)
                    await self._slack.chat_postMessage(
                        channel=sms.slack_channel,
                        thread_ts=sms.slack_ts,
                        text=reply.text,
                        blocks=reply.blocks,
                        metadata=notifier_posts.reply_metadata(note.message_id, outcome_key(note)),
                    )
            except SlackApiError as err:
                if slack_error(err) not in GONE_ERRORS:
                    raise
            else:
                return
        await self._direct_message(note)

    async def _already_replied(self, note: outbox.Notification) -> bool:
        """Look in the SMS's thread for this reply (found by its message metadata)."""
        sms = note.sms
        return await self._already_posted(
            note,
            lambda: self._slack.conversations_replies(
                channel=sms.slack_channel or "",
                ts=sms.slack_ts or "",
                include_all_metadata=True,
                limit=200,
            ),
        )

    async def _already_posted(
        self, note: outbox.Notification, fetch: Callable[[], Awaitable[Any]]
    ) -> bool:
        """Whether the messages ``fetch`` reads hold this outcome (found by its metadata)."""
        found = await earlier_posts(
            fetch,
            lambda message: notifier_posts.is_reply(message, note.message_id, outcome_key(note)),
            sms_id=note.sms.message_id,
            what="the outcome",
        )
        if found is None:
            return False
        self._unsure.discard(note.id)  # looked: Slack's answer says whether it was posted
        return bool(found)

    async def _direct_message(self, note: outbox.Notification) -> None:
        """Send the outcome to the SMS's sender, once: a DM that may have gone is looked for.

        Like the thread reply, the DM carries message metadata; a row older than this process
        (or whose last attempt got no answer) is first looked up in the DM's recent history.
        """
        sms = note.sms
        dm = await open_direct_message(self._slack, sms.user_id)
        if self._maybe_posted(note) and await self._already_posted(
            note,
            lambda: self._slack.conversations_history(
                channel=dm,
                include_all_metadata=True,
                limit=200,
            ),
        ):
            logger.info(
                "direct message found in Slack already; not sent again",
                extra={"sms_id": sms.message_id, "status": outcome_key(note)},
            )
            return
        message = await notifier_posts.outcome_for_sender(
            sms, self._slack, self._languages, workspace=self._language
        )
        async with self._pacer.slot(dm):
            self._unsure.add(note.id)
            await self._slack.chat_postMessage(
                channel=dm,
                text=message.text,
                blocks=message.blocks,
                metadata=notifier_posts.reply_metadata(note.message_id, outcome_key(note)),
            )
