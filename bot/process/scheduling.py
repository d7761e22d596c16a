"""Jobs on an APScheduler: skipped runs logged once a stretch, each run shielded from shutdown.

Delivery tracking (:mod:`bot.process.tracking`) schedules its poll cycle, balance check and
heartbeat here: :func:`make_scheduler` and :func:`shielded`; :class:`RunSoon` runs a job now
rather than at its next tick (the poll cycle, when a replica is found gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.store import is_busy

# delivery tracking's lines, under the logger name they have always had
logger = logging.getLogger("bot.process.tracking")


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
    """An asyncio scheduler whose skipped runs are logged once a stretch, not once a tick.

    A run the event loop reaches late (a busy machine, a long burst) still runs, however late,
    once (its jobs coalesce): APScheduler's default would drop a run more than a second late,
    with a warning, and the step it stands for (a poll cycle, a heartbeat) would wait a whole
    interval more.
    """
    scheduler = AsyncIOScheduler(job_defaults={"misfire_grace_time": None})
    scheduler.add_listener(
        SkippedRuns(), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    )
    return scheduler


class RunSoon:
    """Run a scheduler job of one instance now, or as soon as the run in progress has ended.

    Asking APScheduler for a run while one is in progress loses it: the run is skipped, the job's
    one instance still counted until the scheduler has seen the running one end, which is some
    turns of the event loop after its task did. So a run asked for while one is in progress (or
    just ending) is asked for again when the scheduler reports that run's end, until a run
    starts after the request: that one reads the world as it is now.
    """

    def __init__(self, scheduler: AsyncIOScheduler, job_id: str) -> None:
        self._scheduler = scheduler
        self._job_id = job_id
        self._wanted = False
        scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def __call__(self, *, running: bool) -> None:
        """Have the job run soon; ``running`` when a run of it is known to be in progress."""
        self._wanted = True
        if not running:  # else its end asks (asking now would log a skipped run)
            self._now()

    def _on_event(self, event: JobEvent) -> None:
        if event.job_id != self._job_id:
            return
        if event.code == EVENT_JOB_SUBMITTED:
            self._wanted = False  # a run started after the request: the one asked for
        elif self._wanted:  # a run ended, and none has started since the request
            self._now()

    def _now(self) -> None:
        with contextlib.suppress(JobLookupError):  # shut down meanwhile
            self._scheduler.modify_job(self._job_id, next_run_time=datetime.now().astimezone())


def shielded(
    jobs: set[asyncio.Task[Any]], run: Callable[[], Coroutine[Any, Any, object]], name: str
) -> Callable[[], Awaitable[None]]:
    """``run`` as a scheduler job on a task of its own, kept in ``jobs``.

    A scheduler shutting down cancels its jobs: this one it cannot cut between a Slack post and
    its record. Shutdown waits for the tasks in ``jobs`` instead (delivery tracking's stop).
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
