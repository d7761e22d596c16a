"""The notifier: drains the outbox into Slack, paced per channel, honouring Retry-After.

A row leaves the outbox only after Slack accepted every step of it (the ``chat.update`` of the SMS's
message and, for a final status, one thread reply); each step is marked done as soon as Slack accepts
it, so a crash re-sends at most the step that was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlite_utils import Database

from handlers import blocks
from storage import delivery
from storage.status import is_final

logger = logging.getLogger(__name__)

#: Errors that mean the SMS's original message or its channel is gone: tell the sender directly.
GONE_ERRORS = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cant_update_message",
    }
)
MAX_BACKOFF = 300.0


class Notifier:
    """Posts queued status notifications to Slack; one instance per process."""

    def __init__(
        self,
        db: Database,
        slack: AsyncWebClient,
        *,
        per_channel_interval: float = 1.0,
        batch: int = 200,
        idle_wait: float = 1.0,
        on_posted: Callable[[str, float], None] | None = None,
    ) -> None:
        self._db = db
        self._slack = slack
        self._interval = per_channel_interval
        self._batch = batch
        self._idle_wait = idle_wait
        self._wake = asyncio.Event()
        self._next_post: dict[str, float] = defaultdict(float)
        self._on_posted = on_posted
        self.rate_limited = 0

    def wake(self) -> None:
        """Ask for a drain now (a status was just applied)."""
        self._wake.set()

    async def run(self) -> None:
        """Drain forever: after every wake-up, and at least every ``idle_wait`` seconds."""
        while True:
            try:
                await self.drain()
            except Exception:  # the loop must outlive any single bad row
                logger.exception("notifier drain failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_wait)
            self._wake.clear()

    async def drain(self, *, deadline: float | None = None) -> int:
        """Post every notification that is due now; return how many left the outbox."""
        due = delivery.due_notifications(self._db, limit=self._batch)
        if not due:
            return 0
        by_channel: dict[str, list[delivery.Notification]] = defaultdict(list)
        for note in due:
            by_channel[note.sms.slack_channel or note.sms.user_id].append(note)
        results = await asyncio.gather(
            *(self._drain_channel(ch, notes, deadline) for ch, notes in by_channel.items())
        )
        return sum(results)

    async def _drain_channel(
        self, channel: str, notes: list[delivery.Notification], deadline: float | None
    ) -> int:
        done = 0
        for note in notes:
            if deadline is not None and time.monotonic() > deadline:
                break
            if not await self._deliver(channel, note):
                break  # keep this channel's order: later rows wait for the one that failed
            done += 1
        return done

    async def _pace(self, channel: str) -> None:
        wait = self._next_post[channel] - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_post[channel] = time.monotonic() + self._interval

    async def _deliver(self, channel: str, note: delivery.Notification) -> bool:
        sms = note.sms
        try:
            if not note.update_done:
                await self._update(channel, note)
                delivery.mark_step_done(self._db, note.id, "update")
            if _needs_reply(note) and not note.reply_done:
                await self._reply(channel, note)
                delivery.mark_step_done(self._db, note.id, "reply")
        except SlackApiError as err:
            self._retry_later(channel, note, err)
            return False
        except (SlackClientError, aiohttp.ClientError, TimeoutError, ValueError) as err:
            delay = _backoff(note.attempts)
            delivery.retry_notification(self._db, note.id, delay=delay, error=type(err).__name__)
            logger.warning(
                "slack unreachable; notification retried later",
                extra={"sms_id": sms.message_id, "channel": channel, "retry_in": round(delay, 1)},
            )
            return False
        delivery.finish_notification(self._db, note.id)
        if self._on_posted is not None:
            self._on_posted(note.status, time.time())
        logger.info(
            "delivery update posted",
            extra={"sms_id": sms.message_id, "channel": channel, "status": note.status},
        )
        return True

    def _retry_later(self, channel: str, note: delivery.Notification, err: SlackApiError) -> None:
        response = err.response
        if response.status_code == 429:  # noqa: PLR2004  # Slack's rate limit
            self.rate_limited += 1
            delay = _retry_after(response.headers)
            self._next_post[channel] = max(self._next_post[channel], time.monotonic() + delay)
        else:
            delay = _backoff(note.attempts)
        error = str(response.get("error", response.status_code))
        delivery.retry_notification(self._db, note.id, delay=delay, error=error)
        logger.warning(
            "slack refused a delivery update; retried later",
            extra={"sms_id": note.sms.message_id, "channel": channel, "error": error},
        )

    async def _update(self, channel: str, note: delivery.Notification) -> None:
        sms = note.sms
        message = blocks.sms_message(sms)
        if sms.slack_channel and sms.slack_ts:
            await self._pace(channel)
            try:
                await self._slack.chat_update(
                    channel=sms.slack_channel,
                    ts=sms.slack_ts,
                    text=message.text,
                    blocks=message.blocks,
                )
            except SlackApiError as err:
                if err.response.get("error") not in GONE_ERRORS:
                    raise
            else:
                return
        # the message or its channel is gone: the final outcome goes to the sender directly

    async def _reply(self, channel: str, note: delivery.Notification) -> None:
        sms = note.sms
        reply = blocks.final_reply(sms)
        if sms.slack_channel and sms.slack_ts:
            await self._pace(channel)
            try:
                await self._slack.chat_postMessage(
                    channel=sms.slack_channel,
                    thread_ts=sms.slack_ts,
                    text=reply.text,
                    blocks=reply.blocks,
                )
            except SlackApiError as err:
                if err.response.get("error") not in GONE_ERRORS:
                    raise
            else:
                return
        await self._pace(sms.user_id)
        gone = "I could not update the channel message about this SMS, so the outcome comes to you."
        await self._slack.chat_postMessage(
            channel=sms.user_id,
            text=reply.text,
            blocks=[*reply.blocks, {"type": "context", "elements": [_mrkdwn(gone)]}],
        )


def _needs_reply(note: delivery.Notification) -> bool:
    return note.kind == "giveup" or is_final(note.status)


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _retry_after(headers: Any) -> float:  # noqa: ANN401  # slack_sdk types headers loosely
    value = None
    if isinstance(headers, dict):
        for key, raw in headers.items():
            if key.lower() == "retry-after":
                value = raw[0] if isinstance(raw, list) else raw
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _backoff(attempts: int) -> float:
    capped = min(MAX_BACKOFF, 2.0 ** min(attempts, 10))
    return capped / 2 + random.uniform(0, capped / 2)
