"""The notifier: drains the outbox into Slack, paced per channel, honouring Retry-After.

It is the Slack side of delivery tracking: the domain records sends and applies statuses, writes
outbox rows, and wakes it through a callable. This module is its loop and the outbox steps it
records: which rows are due, in which channel's task, and what comes of each attempt (a step
done, the row finished, retried after a backoff or a 429's Retry-After, or dropped after Slack
refused it for good). It dispatches on a row's kind: a ``post`` row is the SMS's first channel
message (:mod:`handlers.first_posts`; the SMS's later rows wait for it), every other kind edits
that message and may reply in its thread or to its sender (:mod:`handlers.notifier_updates`).

A row leaves the outbox only after Slack accepted every step of it (the ``chat.update`` of the
SMS's message and, for a final status, one thread reply); each step is marked done as soon as
Slack accepts it, so a crash re-sends at most the step that was in flight. The edit is harmless
to repeat; a post that may have reached Slack unseen (a row older than this process or than its
taking the channel, or an attempt that got no answer: :meth:`Notifier._maybe_posted`) is first
looked for by its message metadata (:mod:`handlers.notifier_earlier`).

Its channel posts are in the workspace language, set explicitly (there is no request); an outcome
sent to its sender directly is in the sender's own (:func:`notifier_posts.outcome_for_sender`).

Each channel is drained by a task of its own, started as soon as the channel has due rows and
no task: a channel with a long backlog never holds up another channel's updates, and a status
a webhook just reported goes out without waiting for any other channel's pacing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Literal

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import backoff
from bot.sms.clock import Clock, SystemClock
from handlers import notifier_outbox, notifier_posts
from handlers.first_posts import FirstPost, FirstPosts, PostState
from handlers.i18n import use_locale
from handlers.languages import PeopleLanguages
from handlers.notifier_posts import outcome_key
from handlers.notifier_updates import SmsUpdates
from handlers.pacing import PER_CHANNEL_INTERVAL, ChannelPacer
from handlers.posting import slack_error
from handlers.slack_failures import (
    HTTP_TOO_MANY_REQUESTS,
    PERMANENT_ATTEMPTS,
    PERMANENT_ERRORS,
    retry_after,
)
from storage import outbox, replicas
from storage.store import Store

logger = logging.getLogger(__name__)

#: Longest wait between two attempts of one notification, in seconds.
MAX_BACKOFF = 300.0


class Notifier:
    """Posts queued status notifications to Slack; one instance per process.

    ``batch`` is how many due rows of one channel are read at a time; ``idle_wait`` how long
    :meth:`run` sleeps at most between two looks at the outbox when nobody calls :meth:`wake`.
    """

    def __init__(
        self,
        store: Store,
        slack: AsyncWebClient,
        *,
        per_channel_interval: float = PER_CHANNEL_INTERVAL,
        batch: int = 50,
        idle_wait: float = 1.0,
        retry_base: float = 1.0,
        on_posted: Callable[[outbox.Notification], None] | None = None,
        timezone: tzinfo | None = None,
        clock: Clock | None = None,
        language: str = "en",
        languages: PeopleLanguages | None = None,
        replica: str | None = None,
        lease: timedelta = replicas.LEASE,
    ) -> None:
        self._store = store
        # with several replicas on one database, each channel is posted to by one of them
        # (None: every channel, the one process on the database), kept while its lease holds
        self._replica, self._lease = replica, lease
        self._language = language  # the workspace's: every channel post is in it
        self._languages = languages  # each sender's, for the outcomes sent to them directly
        self._clock: Clock = clock or SystemClock()
        self._zone = timezone  # the Mobizon account's: scheduled times are shown in it
        self._slack = slack
        self._batch = batch
        self._idle_wait = idle_wait
        self._retry_base = retry_base
        self._wake = asyncio.Event()
        self._pacer = ChannelPacer(self._clock, per_channel_interval)
        self._on_posted = on_posted
        # milliseconds are what the outbox stores: a row of this very millisecond counts as older
        started = self._clock.now()
        self._started = started.replace(microsecond=started.microsecond // 1000 * 1000)
        # when this replica last took a channel: rows queued before may have been posted by
        # the replica that owned it and died before recording it
        self._taken = self._started
        self._unsure: set[int] = set()
        self._in_flight: set[int] = set()  # outbox rows a channel drain holds now
        #: The ``post`` rows' side: a surface asks it what came of a sent SMS's post.
        self.first_posts = FirstPosts(
            store, slack, self._pacer, zone=timezone, unsure=self._unsure, wake=self.wake
        )
        # every other row's side: the edit of the SMS's message, the outcome's reply or DM
        self._updates = SmsUpdates(
            self._slack,
            self._pacer,
            zone=self._zone,
            language=self._language,
            languages=self._languages,
            unsure=self._unsure,
            maybe_posted=self._maybe_posted,
        )
        self.rate_limited = 0

    def wake(self) -> None:
        """Ask for a drain now (a status was just applied)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever, each channel with due rows on a task of its own.

        After every wake-up (a status was applied, or a channel's task ended), and at least
        every ``idle_wait`` seconds, every channel that has due rows and no task gets one.
        A channel's task ends when nothing of it is due any more or a row failed (that row is
        put off, and its channel's pacing honours a 429's Retry-After). Cancelling ``run``
        cancels those tasks and waits for them.
        """
        tasks: dict[str, asyncio.Task[int]] = {}
        try:
            while True:
                self._wake.clear()
                try:
                    await self._start_channels(tasks)
                except Exception:  # the loop must outlive a database hiccup
                    logger.exception("notifier could not read the outbox")
                # asyncio.timeout, not wait_for: on Python 3.11 a cancel landing as wait_for
                # times out is swallowed, and this loop would never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_wait):
                        await self._wake.wait()
        finally:
            running = list(tasks.values())
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)

    async def _start_channels(self, tasks: dict[str, asyncio.Task[int]]) -> None:
        """Start a task for every channel that has due rows and none running (``tasks``)."""
        for channel in await notifier_outbox.due_channels(
            self._store, self._clock.now(), self._replica, self._lease, self._channel_taken
        ):
            if channel in tasks:
                continue  # its task reads the outbox again after each batch: it finds new rows
            task = asyncio.create_task(self._channel_task(channel), name=f"notifier {channel}")
            tasks[channel] = task
            task.add_done_callback(functools.partial(self._channel_ended, tasks, channel))

    def _channel_ended(
        self, tasks: dict[str, asyncio.Task[int]], channel: str, task: asyncio.Task[int]
    ) -> None:
        tasks.pop(channel, None)
        if not task.cancelled() and task.exception() is None and task.result() > 0:
            # rows may have come for it since its last look. Not after a failed first row:
            # that row is put off, and the next look (``idle_wait`` at most) is soon enough.
            self._wake.set()

    async def _channel_task(self, channel: str) -> int:
        """One channel's task in :meth:`run`: its drain, outliving any single bad row."""
        try:
            return await self._drain_channel(channel, None)
        except Exception:
            logger.exception("notifier drain failed", extra={"channel": channel})
            # stay the channel's task a while, so the same row is not retried at once
            await self._clock.sleep(self._idle_wait)
            return 0

    async def drain(self, *, deadline: float | None = None) -> int:
        """Post every notification that is due now, channels side by side; return how many left.

        With ``deadline`` (a time of the clock's ``monotonic``) no row is started after it: for the
        flush at shutdown, once :meth:`run` has been cancelled.
        """
        channels = await notifier_outbox.due_channels(
            self._store, self._clock.now(), self._replica, self._lease, self._channel_taken
        )
        results = await asyncio.gather(
            *(self._drain_channel(ch, deadline) for ch in channels), return_exceptions=True
        )
        for channel, result in zip(channels, results, strict=True):
            if isinstance(result, Exception):
                logger.error("notifier drain failed", extra={"channel": channel}, exc_info=result)
        return sum(result for result in results if isinstance(result, int))

    async def _drain_channel(self, channel: str, deadline: float | None) -> int:
        """Deliver one channel's due rows in order; return how many left the outbox.

        Reads ``batch`` rows at a time, so rows queued meanwhile are found and each update
        shows the SMS as recent as it can. Stops when none is due, when one fails (that row is
        put off; the channel's next drain takes the rest, paced after any Retry-After) or at
        ``deadline``. Rows another drain holds are left to it.
        """
        done = 0
        while True:
            due = [
                note
                for note in await self._store.read(
                    outbox.due_notifications,
                    channel=channel,
                    limit=self._batch,
                    now=self._clock.now(),
                )
                if note.id not in self._in_flight
            ]
            if not due:
                return done
            held = {note.id for note in due}
            self._in_flight |= held
            try:
                due, settled = await notifier_outbox.settle_superseded(self._store, due)
                done += settled
                for note in due:
                    if deadline is not None and self._clock.monotonic() > deadline:
                        return done
                    if not await self._deliver(channel, note):
                        return done
                    done += 1
            finally:
                self._in_flight -= held

    async def _deliver(self, channel: str, note: outbox.Notification) -> bool:
        with use_locale(self._language):
            delivered = await self._deliver_row(channel, note)
        if not delivered and note.kind is outbox.NotificationKind.POST:
            self.first_posts.tell(note.message_id, FirstPost(PostState.LATER))
        return delivered

    async def _deliver_row(self, channel: str, note: outbox.Notification) -> bool:
        sms = note.sms
        step: Literal["post", "update", "reply"] = "update"
        in_channel = True
        try:
            if note.kind is outbox.NotificationKind.POST:
                step = "post"
                await self.first_posts.post(note, maybe_posted=self._maybe_posted(note))
            elif not note.update_done:
                in_channel = await self._updates.update(note)
                await self._store.write(outbox.mark_step_done, note.id, "update")
            step = "reply"
            if notifier_posts.reply_owed(note):
                await self._updates.reply(note, in_channel=in_channel)
                await self._store.write(outbox.mark_step_done, note.id, "reply")
                self._unsure.discard(note.id)
        except SlackApiError as err:
            await self._retry_later(channel, note, err, step=step)
            return False
        except (SlackClientError, aiohttp.ClientError, TimeoutError, ValueError) as err:
            delay = self._backoff(note.attempts)
            await self._store.write(
                outbox.retry_notification,
                note.id,
                delay=delay,
                error=type(err).__name__,
                now=self._clock.now(),
            )
            logger.warning(
                "slack unreachable; notification retried later",
                extra={"sms_id": sms.message_id, "channel": channel, "retry_in": round(delay, 1)},
            )
            return False
        except Exception:  # a bug or a database error on this row: put it off, keep the channel
            delay = self._backoff(note.attempts)
            logger.exception(
                "delivery update failed; retried later",
                extra={"sms_id": sms.message_id, "channel": channel, "retry_in": round(delay, 1)},
            )
            with contextlib.suppress(Exception):
                await self._store.write(
                    outbox.retry_notification,
                    note.id,
                    delay=delay,
                    error="internal error",
                    now=self._clock.now(),
                )
            return False
        await self._store.write(outbox.finish_notification, note.id)
        if self._on_posted is not None:
            self._on_posted(note)
        logger.info(
            "delivery update posted",
            extra={"sms_id": sms.message_id, "channel": channel, "status": outcome_key(note)},
        )
        return True

    async def _retry_later(
        self,
        channel: str,
        note: outbox.Notification,
        err: SlackApiError,
        *,
        step: Literal["post", "update", "reply"],
    ) -> None:
        response = err.response
        error = slack_error(err)
        if error in PERMANENT_ERRORS and step == "update":
            # the message cannot be edited, but the outcome is still owed: go on to the reply
            await self._store.write(outbox.mark_step_done, note.id, "update")
            await self._store.write(
                outbox.retry_notification, note.id, delay=0, error=error, now=self._clock.now()
            )
            logger.warning(
                "slack refuses the SMS message's update for good; skipped",
                extra={"sms_id": note.sms.message_id, "channel": channel, "error": error},
            )
            return
        if error in PERMANENT_ERRORS and note.attempts + 1 >= PERMANENT_ATTEMPTS:
            await self._store.write(outbox.finish_notification, note.id)
            logger.error(
                "slack keeps refusing a delivery update for good; dropped",
                extra={
                    "sms_id": note.sms.message_id,
                    "channel": channel,
                    "user": note.sms.user_id,
                    "status": outcome_key(note),
                    "error": error,
                    "attempts": note.attempts + 1,
                },
            )
            return
        if response.status_code == HTTP_TOO_MANY_REQUESTS:
            self.rate_limited += 1
            delay = retry_after(response.headers)
            self._pacer.hold(channel, delay)
        else:
            delay = self._backoff(note.attempts)
        await self._store.write(
            outbox.retry_notification, note.id, delay=delay, error=error, now=self._clock.now()
        )
        logger.warning(
            "slack refused a delivery update; retried later",
            extra={
                "sms_id": note.sms.message_id,
                "channel": channel,
                "error": error,
                "retry_in": round(delay, 1),
            },
        )

    def _channel_taken(self, moment: datetime) -> None:
        """A channel became this replica's at ``moment`` (see :meth:`_maybe_posted`)."""
        self._taken = max(self._taken, moment)

    def _maybe_posted(self, note: outbox.Notification) -> bool:
        """Whether an earlier attempt may have posted this reply without us learning of it.

        True for rows queued before this process started or before it last took a channel
        (the process or the replica that owned the channel may have been killed right after
        Slack accepted the post) and for rows whose attempt ended without Slack's answer.
        """
        return note.id in self._unsure or note.created_at <= self._taken

    def _backoff(self, attempts: int) -> float:
        """Seconds before the next try of a row that failed ``attempts + 1`` times in all."""
        return backoff(attempts + 1, first=self._retry_base, cap=MAX_BACKOFF)
