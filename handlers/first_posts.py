"""The SMS's first channel post: made by the notifier from the SMS's ``post`` outbox row.

Recording a sent SMS queues its post (:func:`storage.claims.record_sent`); the notifier makes it
through the channel's owner, so any live replica makes it and Slack's pace for the channel holds,
and the SMS's later rows wait behind it. The post is in the workspace language, in the SMS's
channel (a public channel the bot is not in is joined once); its ts is stored so updates edit it.
One that comes late says why under it (:data:`NOTES`). A post Slack will not take there (a
private channel the bot is not in, a channel gone) is kept on the SMS: its updates go to its
sender.

The surface that sent the SMS asks what came of its post (:meth:`FirstPosts.wait`) and tells the
sender, waiting a bounded time; a post not made by then is made later, like any outbox row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.sending.outcomes import Outcome, Sent
from handlers import blocks
from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.notifier_earlier import earlier_posts
from handlers.pacing import ChannelPacer
from handlers.posting import slack_error
from handlers.slack_failures import transient
from storage import outbox
from storage.outbox import PostNote
from storage.records import SmsRecord
from storage.store import Store

logger = logging.getLogger(__name__)

#: How long a surface waits for its SMS's post before telling the sender it comes later: the
#: channel's owner makes it, after any rows of the channel before it.
WAIT = 10.0
#: How often a waiting surface looks in the database for a post another replica makes.
LOOK_EVERY = 0.5
#: The message metadata event of an SMS's post, so a post that reached Slack unseen is found.
POST_EVENT = "smsbot_sms_post"

RECOVERED_NOTE = N_(
    ":arrows_counterclockwise: Mobizon's answer to this send was not recorded at the time "
    "(smsbot restarted or the answer was lost); Mobizon has this SMS, so it is tracked as usual."
)
RESENT_NOTE = N_(
    ":arrows_counterclockwise: smsbot stopped before this SMS reached Mobizon; it was sent "
    "when smsbot found the unfinished send, and is tracked as usual."
)
LATE_NOTE = N_(
    ":hourglass: smsbot's database was busy when Mobizon took this SMS, so it is posted late; "
    "it is tracked as usual."
)
#: What a late post says under it, by its row's note.
NOTES = {PostNote.RECOVERED: RECOVERED_NOTE, PostNote.RESENT: RESENT_NOTE, PostNote.LATE: LATE_NOTE}

_JOINABLE_ERRORS = frozenset({"not_in_channel", "channel_not_found"})


class PostState(StrEnum):
    """What came of an SMS's first channel post, as its sender is told."""

    POSTED = "posted"
    REFUSED = "refused"  # Slack will not take it in that channel: the updates go to the sender
    LATER = "later"  # not made yet (Slack unwell, a backlog): the outbox makes it later


@dataclass(frozen=True, slots=True)
class FirstPost:
    """What came of an SMS's first channel post; ``problem``: Slack's error, when refused."""

    state: PostState
    problem: str | None = None


class FirstPosts:
    """The notifier's ``post`` rows: the posts made, and the surfaces waiting for them."""

    def __init__(
        self,
        store: Store,
        slack: AsyncWebClient,
        pacer: ChannelPacer,
        *,
        zone: tzinfo | None,
        unsure: set[int],
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._slack = slack
        self._pacer = pacer
        self._zone = zone  # the Mobizon account's: a scheduled time is shown in it
        # the notifier's rows whose attempt may have reached Slack unseen
        self._unsure = unsure
        self._wake = wake  # the notifier's: it looks at the outbox now
        self._waiting: dict[int, asyncio.Future[FirstPost]] = {}
        self._released = False

    async def post(self, note: outbox.Notification, *, maybe_posted: bool) -> None:
        """Make the SMS's post, or find it made; the waiting surface is told what came of it.

        Raises what passes (Slack unwell, a 429): the notifier retries the row. ``maybe_posted``
        when an earlier attempt may have posted it unseen: it is looked for in the channel first.
        """
        sms = note.sms
        if sms.slack_ts is None:
            found = await self._find(sms) if maybe_posted else None
            if found is not None:
                await self._posted(note, *found)
            elif (error := await self._post(note)) is not None:
                await self._store.write(outbox.refuse_post, sms.id, error=error)
                logger.warning(
                    "could not post the SMS message",
                    extra={"sms_id": sms.message_id, "channel": sms.channel_id, "error": error},
                )
                self.tell(note.message_id, FirstPost(PostState.REFUSED, error))
                return
        self.tell(note.message_id, FirstPost(PostState.POSTED))

    def tell(self, message_id: int, post: FirstPost) -> None:
        """Tell the surface waiting for SMS ``message_id``'s post, if any, what came of it."""
        waiting = self._waiting.get(message_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(post)

    def release(self) -> None:
        """Stop waiting (the process stops): every surface waiting, or to wait, hears "later"."""
        self._released = True
        for message_id in list(self._waiting):
            self.tell(message_id, FirstPost(PostState.LATER))

    async def wait(self, sms: SmsRecord, *, within: float = WAIT) -> FirstPost:
        """Have ``sms``'s post made now; what came of it, waiting at most ``within`` seconds.

        This process's notifier tells as it makes the post; the channel's owner may be another
        replica, so the database is looked at meanwhile. Once the process stops
        (:meth:`release`), at once: it comes later.
        """
        if sms.message_id is None or not sms.channel_id:
            return FirstPost(PostState.REFUSED, "channel_not_found")
        if self._released:
            return FirstPost(PostState.LATER)  # the outbox's flush, or the next start, posts it
        loop = asyncio.get_running_loop()
        told = self._waiting.setdefault(sms.message_id, loop.create_future())
        self._wake()
        deadline = loop.time() + within
        try:
            while (left := deadline - loop.time()) > 0:
                done, _pending = await asyncio.wait({told}, timeout=min(LOOK_EVERY, left))
                if done:
                    return told.result()
                found = await self._look(sms.message_id)
                if found is not None:
                    return found
            return FirstPost(PostState.LATER)
        finally:
            if self._waiting.get(sms.message_id) is told:
                del self._waiting[sms.message_id]

    async def _look(self, message_id: int) -> FirstPost | None:
        """What the database says of the post; "later" when it cannot say (the SMS went out)."""
        try:
            return _as_told(await self._store.read(outbox.first_post, message_id))
        except Exception:
            logger.exception(
                "could not read where an SMS's post stands", extra={"sms_id": message_id}
            )
            return FirstPost(PostState.LATER)

    async def _post(self, note: outbox.Notification) -> str | None:
        """Post the SMS's message and store its ts; Slack's error when it will not take it."""
        sms = note.sms
        message = blocks.sms_message(sms, zone=self._zone)
        extra = [] if note.note is None else [_note_block(NOTES[note.note])]
        payload = {
            "text": message.text,
            "blocks": [*message.blocks, *extra],
            "metadata": _post_metadata(note.message_id),
        }
        error = await self._post_once(note, payload)
        if error in _JOINABLE_ERRORS and await self._join(sms.channel_id):
            error = await self._post_once(note, payload)
        return error

    async def _post_once(self, note: outbox.Notification, payload: dict[str, Any]) -> str | None:
        sms = note.sms
        # unsure from here until its ts is stored: an attempt ending any other way looks first
        try:
            async with self._pacer.slot(sms.channel_id):
                self._unsure.add(note.id)
                response = await self._slack.chat_postMessage(channel=sms.channel_id, **payload)
        except SlackApiError as err:
            if transient(err):
                raise
            self._unsure.discard(note.id)
            return slack_error(err)
        ts = response.get("ts")
        if isinstance(ts, str):
            await self._posted(note, str(response.get("channel") or sms.channel_id), ts)
        return None

    async def _posted(self, note: outbox.Notification, channel: str, ts: str) -> None:
        # Slack has the post: its ts must be kept, or updates would go to a DM instead
        await self._store.write_retrying(outbox.record_post, note.sms.id, channel=channel, ts=ts)
        self._unsure.discard(note.id)

    async def _find(self, sms: SmsRecord) -> tuple[str, str] | None:
        """The channel and ts of the SMS's post, when an earlier attempt made it unseen."""
        found = await earlier_posts(
            lambda: self._slack.conversations_history(
                channel=sms.channel_id, include_all_metadata=True, limit=200
            ),
            lambda message: (
                _is_post(message, sms.message_id) and isinstance(message.get("ts"), str)
            ),
            sms_id=sms.message_id,
            what="the SMS",
        )
        if not found:
            return None
        logger.info(
            "the SMS's post was found in Slack already; not posted again",
            extra={"sms_id": sms.message_id, "channel": sms.channel_id},
        )
        return sms.channel_id, str(found[0]["ts"])

    async def _join(self, channel: str) -> bool:
        """Join a public channel; False for private channels and DMs, where only an invite helps."""
        try:
            await self._slack.conversations_join(channel=channel)
        except SlackApiError as err:
            if transient(err):
                raise
            logger.info(
                "could not join channel", extra={"channel": channel, "error": slack_error(err)}
            )
            return False
        return True


async def post_of(
    outcome: Outcome, first_post: Callable[[SmsRecord], Awaitable[FirstPost]] | None
) -> FirstPost | None:
    """For a :class:`Sent` outcome, what came of its channel post, as ``first_post`` tells.

    ``first_post`` is the process's notifier's (:meth:`handlers.notifier.Notifier.first_post`,
    ``Services.first_post``): ``None`` when none runs, and the post comes later.
    """
    if not isinstance(outcome, Sent):
        return None
    if first_post is None:
        return FirstPost(PostState.LATER)
    return await first_post(outcome.sms)


def _as_told(found: outbox.FirstPost) -> FirstPost | None:
    """What a waiting surface is told of a post as the database has it; ``None``: not tried yet."""
    if found.slack_ts is not None:
        return FirstPost(PostState.POSTED)
    if found.post_error is not None:
        return FirstPost(PostState.REFUSED, found.post_error)
    if found.waiting and not found.attempts:
        return None
    # one failed attempt is enough to tell: the outbox tries again at its own pace
    return FirstPost(PostState.LATER)


def _note_block(note: str) -> dict[str, object]:
    """A context block with one of the notes above, in the reader's language."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _(note)}]}


def _post_metadata(message_id: int | None) -> dict[str, Any]:
    return {"event_type": POST_EVENT, "event_payload": {"message_id": message_id}}


def _is_post(message: object, message_id: int | None) -> bool:
    """Whether a message Slack returned is the post of SMS ``message_id``."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != POST_EVENT:
        return False
    payload = metadata.get("event_payload") or {}
    return isinstance(payload, dict) and str(payload.get("message_id")) == str(message_id)
