"""Delivery tracking's lifetime: the poll job on an APScheduler, and the notifier task.

The campaign reporter's step (each send to many's one message) is a job on the same scheduler,
stopped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.process.runtime import RUNTIME, Runtime, Tracking
from bot.process.scheduling import RunSoon, make_scheduler, shielded
from bot.process.slack_client import make_slack_client
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.delivery.balance_watch import CHECK_SECONDS as BALANCE_CHECK_SECONDS
from bot.sms.delivery.balance_watch import BalanceWatch
from bot.sms.delivery.campaign_recovery import CampaignRecovery
from bot.sms.delivery.costs import CostLookup
from bot.sms.delivery.moderation import ModerationWatch
from bot.sms.delivery.poller import Poller
from bot.sms.delivery.turns import Turn
from bot.sms.delivery.unsettled import UnsettledSends
from handlers.campaign_notices import SlackCampaignNotices
from handlers.campaign_posts import STEP_SECONDS as CAMPAIGN_STEP_SECONDS
from handlers.campaign_posts import CampaignReporter
from handlers.delivery_posts import SlackSettlingPosts
from handlers.notifier import Notifier
from handlers.pacing import PER_CHANNEL_INTERVAL
from handlers.posting import post_balance_alert
from storage import messages, replicas
from storage.store import is_busy

logger = logging.getLogger(__name__)

FLUSH_DEADLINE = 5.0
#: How long shutdown waits for a poll cycle in progress before closing the database under it.
CYCLE_DEADLINE = 10.0
POLL_JOB = "poll-statuses"
#: The name of a running poll cycle's task.
POLL_CYCLE = "poll cycle"
BALANCE_JOB = "check-balance"
#: The account jobs each poll cycle runs: one replica a cycle runs each (its turn).
MODERATION_JOB = "watch-moderation"
COSTS_JOB = "look-up-costs"
HEARTBEAT_JOB = "replica-heartbeat"
#: Each campaign's one message: posted, edited with its counts, summed up.
CAMPAIGN_JOB = "report-campaigns"
#: Sends to many a stopped replica left: taken over, sent once or their askers told.
CAMPAIGN_RECOVERY_JOB = "recover-campaigns"
#: The notifier's clock (its pacing, its outbox times, the flush's deadline), when an app is given
#: one before it starts: tests give a clock that skips the pacing's sleeps.
NOTIFIER_CLOCK = web.AppKey[Clock]("notifier_clock")


def _account_watches(
    runtime: Runtime, notifier: Notifier
) -> list[tuple[str, Callable[[], Awaitable[int]]]]:
    """What each poll cycle also does, in one replica a cycle: watch moderation, look up costs."""
    core = runtime.started()
    sandbox = runtime.settings.sandbox
    every = timedelta(seconds=runtime.settings.poll_interval)
    lease = timedelta(seconds=runtime.settings.replica_lease)
    moderation = ModerationWatch(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        on_declined=runtime.metrics.declined.inc,
        sandbox=sandbox,
        turn=Turn(core.store, MODERATION_JOB, replica=runtime.replica_id, every=every, lease=lease),
    )
    costs = CostLookup(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        sandbox=sandbox,
        turn=Turn(core.store, COSTS_JOB, replica=runtime.replica_id, every=every, lease=lease),
    )
    return [("moderation", moderation.run_once), ("costs", costs.run_once)]


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
        shielded(jobs, watch.run_once, "balance check"),
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
    lease = timedelta(seconds=settings.replica_lease)
    return BalanceWatch(
        core.store,
        core.gateway,
        threshold,
        post,
        replica=runtime.replica_id,
        turn=Turn(core.store, BALANCE_JOB, replica=runtime.replica_id, every=every, lease=lease),
        lease=lease,
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
    lease = timedelta(seconds=settings.replica_lease)
    clock = app.get(NOTIFIER_CLOCK, SYSTEM_CLOCK)
    notifier = Notifier(
        core.store,
        slack,
        on_posted=runtime.metrics.notification_posted,
        timezone=zone,
        language=settings.language,
        languages=languages,
        replica=runtime.replica_id,
        lease=lease,
        per_channel_interval=PER_CHANNEL_INTERVAL if settings.slack_pacing else 0.0,
        clock=clock,
    )
    poller = Poller(
        core.store,
        core.gateway,
        on_change=notifier.wake,
        on_cycle=runtime.metrics.poll_cycle,
        timezone=zone,
        sandbox=settings.sandbox,
        replica=runtime.replica_id,
        lease=lease,
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
        lease=lease,
    )
    account_watches = _account_watches(runtime, notifier)
    cycles: set[asyncio.Task[Any]] = set()

    async def cycle() -> None:
        # polling first: settling may wait for Mobizon's send lanes (a dead replica's claims)
        for what, step in (("status polling", poller.run_once), ("settling", unsettled.run_once)):
            try:
                await step()
            except Exception as err:  # a bug in one must not stop the other, nor the watches
                if is_busy(err):  # the rest would meet the same lock: the cycle stops, warned once
                    raise
                logger.exception("%s failed", what)
        for name, run_once in account_watches:
            try:
                await run_once()
            except Exception as err:  # a bug there must not stop status polling
                if is_busy(err):
                    raise
                logger.exception("an account watch failed", extra={"watch": name})

    scheduler = make_scheduler()
    scheduler.add_job(
        shielded(cycles, cycle, POLL_CYCLE),
        "interval",
        seconds=settings.poll_interval,
        id=POLL_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )

    _schedule_campaign_jobs(
        scheduler,
        runtime,
        CampaignReporter(core.store, slack, language=settings.language, clock=clock),
        SlackCampaignNotices(slack, session, language=settings.language, languages=languages),
        cycles,
    )
    _schedule_heartbeat(scheduler, runtime, lease, notifier, cycles)
    _schedule_balance_watch(scheduler, runtime, slack, cycles)
    scheduler.start()
    task = asyncio.create_task(notifier.run(), name="notifier")
    runtime.tracking = Tracking(notifier, poller)
    runtime.health.scheduler = lambda: scheduler.running
    try:
        yield
    finally:
        try:
            await _stop(scheduler, cycles, task, notifier, clock)
        finally:
            await session.close()
            runtime.tracking = None
            runtime.health.scheduler = None


def _schedule_campaign_jobs(
    scheduler: AsyncIOScheduler,
    runtime: Runtime,
    reporter: CampaignReporter,
    notices: SlackCampaignNotices,
    jobs: set[asyncio.Task[Any]],
) -> None:
    """Report each campaign's one message every step; take over the gone replicas' campaigns.

    The takeover (and settling) of sends to many runs every heartbeat, in every replica.
    """
    scheduler.add_job(
        shielded(jobs, reporter.report_due, CAMPAIGN_JOB),
        "interval",
        seconds=CAMPAIGN_STEP_SECONDS,
        id=CAMPAIGN_JOB,
        max_instances=1,
        coalesce=True,
    )
    core = runtime.started()
    lease = timedelta(seconds=runtime.settings.replica_lease)
    recovery = CampaignRecovery(
        core.store,
        core.gateway,
        notices,
        replica=runtime.replica_id,
        lease=lease,
        clock=runtime.clock,  # the wall time heartbeats and campaigns are stamped with
    )
    scheduler.add_job(
        shielded(jobs, recovery.run_once, CAMPAIGN_RECOVERY_JOB),
        "interval",
        seconds=replicas.heartbeat_every(lease).total_seconds(),
        id=CAMPAIGN_RECOVERY_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )


class Heartbeat:
    """The replica's heartbeat job; it also notices another replica whose lease ran out.

    The work of a replica that is gone (its claims, the SMS it polled, its channels' posts) is
    taken over at once: the poll cycle (which settles claims and polls) runs now and the
    notifier looks at the outbox, rather than at the next poll cycle. So a dead replica's work
    waits its lease and one heartbeat at most, whatever ``SMSBOT_POLL_INTERVAL`` says.
    """

    def __init__(self, runtime: Runtime, lease: timedelta, *, on_gone: Callable[[], None]) -> None:
        self._runtime = runtime
        self._lease = lease
        self._on_gone = on_gone
        self._live: set[str] = set()  # the replicas live at the last beat

    async def beat(self) -> None:
        """Say this replica is alive (again, if it was taken for dead); notice the ones gone."""
        runtime = self._runtime
        store = runtime.started().store
        if not await store.write(replicas.heartbeat, runtime.replica_id):
            logger.warning(
                "this replica was taken for dead (no heartbeat for %g s); registered again",
                self._lease.total_seconds(),
            )
            await runtime.register_replica(store)
        live = {r.id for r in await store.read(replicas.live_replicas, lease=self._lease)}
        gone = self._live - live
        self._live = live
        if gone:
            logger.info(
                "%d replica(s) gone; taking over their work",
                len(gone),
                extra={"gone": sorted(gone)},
            )
            self._on_gone()


def _schedule_heartbeat(
    scheduler: AsyncIOScheduler,
    runtime: Runtime,
    lease: timedelta,
    notifier: Notifier,
    jobs: set[asyncio.Task[Any]],
) -> None:
    """Heartbeat every third of the lease; a replica found gone has its work taken over now."""
    poll_soon = RunSoon(scheduler, POLL_JOB)

    def take_over() -> None:  # the poll cycle settles its claims and polls its SMS
        # a cycle in progress may have read the claims before the lease ran out: once more after
        poll_soon(running=any(task.get_name() == POLL_CYCLE for task in jobs))
        notifier.wake()  # and its channels' posts are taken

    scheduler.add_job(
        shielded(jobs, Heartbeat(runtime, lease, on_gone=take_over).beat, "heartbeat"),
        "interval",
        seconds=replicas.heartbeat_every(lease).total_seconds(),
        id=HEARTBEAT_JOB,
        max_instances=1,
        coalesce=True,
    )


async def _stop(
    scheduler: AsyncIOScheduler,
    cycles: set[asyncio.Task[Any]],
    notifier_task: asyncio.Task[None],
    notifier: Notifier,
    clock: Clock,
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
            notifier.drain(deadline=clock.monotonic() + FLUSH_DEADLINE), FLUSH_DEADLINE + 1
        )
    except TimeoutError:
        logger.warning("outbox not fully flushed at shutdown; the next start finishes it")
    except Exception:  # the rest of the shutdown must run: the next start finishes the outbox
        logger.exception("outbox flush failed at shutdown")
