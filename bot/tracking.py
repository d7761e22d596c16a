"""Delivery tracking's lifetime: the poll job on an APScheduler, and the notifier task."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.balance import CHECK_SECONDS as BALANCE_CHECK_SECONDS
from bot.balance import BalanceWatch
from bot.delivery.costs import CostLookup
from bot.delivery.moderation import ModerationWatch
from bot.delivery.poller import Poller
from bot.delivery.turns import Turn
from bot.delivery.unsettled import UnsettledSends
from bot.runtime import RUNTIME, Runtime, Tracking
from bot.slack_client import make_slack_client
from handlers.delivery_posts import SlackSettlingPosts
from handlers.notifier import Notifier
from handlers.posting import post_balance_alert
from storage import messages, replicas
from storage.store import is_busy

logger = logging.getLogger(__name__)

FLUSH_DEADLINE = 5.0
#: How long shutdown waits for a poll cycle in progress before closing the database under it.
CYCLE_DEADLINE = 10.0
POLL_JOB = "poll-statuses"
BALANCE_JOB = "check-balance"
#: The account jobs each poll cycle runs: one replica a cycle runs each (its turn).
MODERATION_JOB = "watch-moderation"
COSTS_JOB = "look-up-costs"
HEARTBEAT_JOB = "replica-heartbeat"


class _NoPerTickSkipLine(logging.Filter):
    """Drop APScheduler's WARNING for each run skipped while one runs: SkippedRuns tells."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


logging.getLogger("apscheduler.scheduler").addFilter(_NoPerTickSkipLine())


class SkippedRuns:
    """An APScheduler listener: skipped runs logged once as skipping starts, once as it ends.

    A job still running at its next run time (a poll cycle waiting on a silent Mobizon) has that
    run skipped, at every tick until it ends; APScheduler would log each one.
    """

    def __init__(self) -> None:
        self._skipped: dict[str, int] = {}

    def __call__(self, event: JobEvent) -> None:
        """Count a skipped run, or close a stretch of them when the running instance ends."""
        job = event.job_id
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self._skipped[job] = self._skipped.get(job, 0) + 1
            if self._skipped[job] == 1:
                logger.warning(
                    "%s is still running at its next run time; its runs are skipped until it ends",
                    job,
                    extra={"job": job},
                )
            return
        skipped = self._skipped.pop(job, 0)
        if skipped:
            logger.warning(
                "%s ended after %d scheduled runs were skipped", job, skipped, extra={"job": job}
            )


def make_scheduler() -> AsyncIOScheduler:
    """An asyncio scheduler whose skipped runs are logged once a stretch, not once a tick."""
    scheduler = AsyncIOScheduler()
    scheduler.add_listener(
        SkippedRuns(), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    )
    return scheduler


def _account_watches(
    runtime: Runtime, notifier: Notifier
) -> list[tuple[str, Callable[[], Awaitable[int]]]]:
    """What each poll cycle also does, in one replica a cycle: watch moderation, look up costs."""
    core = runtime.started()
    sandbox = runtime.settings.sandbox
    every = timedelta(seconds=runtime.settings.poll_interval)
    moderation = ModerationWatch(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        on_declined=runtime.metrics.declined.inc,
        sandbox=sandbox,
        turn=Turn(core.store, MODERATION_JOB, replica=runtime.replica_id, every=every),
    )
    costs = CostLookup(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        sandbox=sandbox,
        turn=Turn(core.store, COSTS_JOB, replica=runtime.replica_id, every=every),
    )
    return [("moderation", moderation.run_once), ("costs", costs.run_once)]


def _shielded(
    jobs: set[asyncio.Task[Any]], run: Callable[[], Coroutine[Any, Any, object]], name: str
) -> Callable[[], Awaitable[None]]:
    """``run`` as a scheduler job on a task of its own, kept in ``jobs``.

    A scheduler shutting down cancels its jobs: this one it cannot cut between a Slack post and
    its record. Shutdown waits for the tasks in ``jobs`` instead (:func:`_stop`).
    """

    async def job() -> None:
        task = asyncio.create_task(_busy_is_a_warning(run, name), name=name)
        jobs.add(task)
        task.add_done_callback(jobs.discard)
        await asyncio.shield(task)

    return job


async def _busy_is_a_warning(run: Callable[[], Coroutine[Any, Any, object]], name: str) -> None:
    """Run ``run``; a database another process keeps locked ends it with one warning.

    Nothing it did not write is lost: each job finds its work again in the database or at
    Mobizon at its next run.
    """
    try:
        await run()
    except Exception as err:
        if not is_busy(err):
            raise
        logger.warning(
            "database busy, %s stopped; the next run tries again", name, extra={"job": name}
        )


def _schedule_balance_watch(
    scheduler: AsyncIOScheduler,
    runtime: Runtime,
    slack: AsyncWebClient,
    jobs: set[asyncio.Task[Any]],
) -> None:
    """Check the balance every few minutes when the low-balance alert is configured."""
    watch = balance_watch(runtime, slack)
    if watch is None:
        return
    scheduler.add_job(
        _shielded(jobs, watch.run_once, "balance check"),
        "interval",
        seconds=BALANCE_CHECK_SECONDS,
        id=BALANCE_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )


def balance_watch(runtime: Runtime, slack: AsyncWebClient) -> BalanceWatch | None:
    """The low-balance watch, posting to SMSBOT_ALERT_CHANNEL; ``None`` when not configured.

    One replica checks per interval (its turn), and a change is posted by the one that claims it.
    """
    settings = runtime.settings
    threshold, channel = settings.low_balance, settings.alert_channel
    if threshold is None or channel is None:
        return None

    post = functools.partial(
        post_balance_alert, slack, channel, threshold, language=settings.language
    )
    core = runtime.started()
    every = timedelta(seconds=BALANCE_CHECK_SECONDS)
    return BalanceWatch(
        core.store,
        core.gateway,
        threshold,
        post,
        replica=runtime.replica_id,
        turn=Turn(core.store, BALANCE_JOB, replica=runtime.replica_id, every=every),
        on_balance=runtime.metrics.balance_seen,
    )


async def delivery_tracking(app: web.Application) -> AsyncIterator[None]:
    """Start the poller and the notifier with the app; on shutdown, flush the outbox briefly."""
    runtime = app[RUNTIME]
    core = runtime.started()
    settings = runtime.settings
    # its own client without retry handlers: the notifier paces itself and reschedules on 429
    session = aiohttp.ClientSession()
    slack = make_slack_client(settings, session, retry_rate_limits=False)
    zone = settings.mobizon_timezone
    languages = runtime.people_languages()
    notifier = Notifier(
        core.store,
        slack,
        on_posted=runtime.metrics.notification_posted,
        timezone=zone,
        language=settings.language,
        languages=languages,
        replica=runtime.replica_id,
    )
    poller = Poller(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        on_cycle=runtime.metrics.poll_cycle,
        timezone=zone,
        sandbox=settings.sandbox,
        replica=runtime.replica_id,
    )
    # read before the app serves anything: every row up to it is a claim of a process that is gone
    claimed_up_to = await core.store.read(messages.last_sms_id)
    unsettled = UnsettledSends(
        core.store,
        core.gateway,
        SlackSettlingPosts(slack, session, language=settings.language, languages=languages),
        claimed_up_to=claimed_up_to,
        on_change=notifier.wake,
        on_adopted=runtime.metrics.sms_sent.labels(outcome="sent").inc,
        unrecorded=runtime.unrecorded,
        replica=runtime.replica_id,
    )
    account_watches = _account_watches(runtime, notifier)
    cycles: set[asyncio.Task[Any]] = set()

    async def cycle() -> None:
        try:
            await unsettled.run_once()
        except Exception as err:  # a bug there must not stop status polling
            if is_busy(err):  # the rest would meet the same lock: the cycle stops, warned once
                raise
            logger.exception("settling unsettled sends failed")
        await poller.run_once()
        for name, run_once in account_watches:
            try:
                await run_once()
            except Exception as err:  # a bug there must not stop status polling
                if is_busy(err):
                    raise
                logger.exception("an account watch failed", extra={"watch": name})

    scheduler = make_scheduler()
    scheduler.add_job(
        _shielded(cycles, cycle, "poll cycle"),
        "interval",
        seconds=settings.poll_interval,
        id=POLL_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        _shielded(cycles, functools.partial(_heartbeat, runtime), "heartbeat"),
        "interval",
        seconds=replicas.HEARTBEAT_EVERY.total_seconds(),
        id=HEARTBEAT_JOB,
        max_instances=1,
        coalesce=True,
    )
    _schedule_balance_watch(scheduler, runtime, slack, cycles)
    scheduler.start()
    task = asyncio.create_task(notifier.run(), name="notifier")
    runtime.tracking = Tracking(notifier, poller)
    runtime.health.scheduler = lambda: scheduler.running
    try:
        yield
    finally:
        try:
            await _stop(scheduler, cycles, task, notifier)
        finally:
            await session.close()
            runtime.tracking = None
            runtime.health.scheduler = None


async def _heartbeat(runtime: Runtime) -> None:
    """Say this replica is alive; register it again if it was taken for dead meanwhile."""
    store = runtime.started().store
    if not await store.write(replicas.heartbeat, runtime.replica_id):
        logger.warning(
            "this replica was taken for dead (no heartbeat for %s s); registered again",
            int(replicas.LEASE.total_seconds()),
        )
        await runtime.register_replica(store)


async def _stop(
    scheduler: AsyncIOScheduler,
    cycles: set[asyncio.Task[Any]],
    notifier_task: asyncio.Task[None],
    notifier: Notifier,
) -> None:
    """Stop polling (letting a cycle in progress finish), then the notifier, then flush."""
    scheduler.pause()  # no new cycle; one in progress finishes (it uses the database)
    if cycles:
        _, late = await asyncio.wait(set(cycles), timeout=CYCLE_DEADLINE)
        if late:
            logger.warning("a poll cycle or balance check was still running at shutdown; stopped")
            for cycle_task in late:
                cycle_task.cancel()
            await asyncio.wait(late)
    scheduler.shutdown(wait=False)
    notifier_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await notifier_task
    try:
        await asyncio.wait_for(
            notifier.drain(deadline=time.monotonic() + FLUSH_DEADLINE), FLUSH_DEADLINE + 1
        )
    except TimeoutError:
        logger.warning("outbox not fully flushed at shutdown; the next start finishes it")
    except Exception:  # the rest of the shutdown must run: the next start finishes the outbox
        logger.exception("outbox flush failed at shutdown")
