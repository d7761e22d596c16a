"""Scheduled jobs: skipped runs logged once, not at every tick; a run asked for soon is never lost."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobExecutionEvent,
    JobSubmissionEvent,
)

from bot.process.scheduling import RunSoon, SkippedRuns, make_scheduler, shielded
from testkit.waiting import wait_until


def skip_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every line about skipped runs: ours, and APScheduler's own per-tick one."""
    return [
        r.getMessage()
        for r in caplog.records
        if "skipped" in r.getMessage() or "maximum number of running" in r.getMessage()
    ]


def test_a_stretch_of_skipped_runs_is_two_lines() -> None:
    """Five skips of one job: one line as skipping starts, one with the count as the job ends."""
    now = datetime.now(UTC)
    runs = SkippedRuns()
    logger = logging.getLogger("bot.process.tracking")
    with pytest.MonkeyPatch.context() as patch:
        said: list[str] = []
        patch.setattr(logger, "warning", lambda msg, *args, **_: said.append(msg % args))
        for _ in range(5):
            runs(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, "poll", "default", [now]))
        runs(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, "balance", "default", [now]))
        runs(JobExecutionEvent(EVENT_JOB_EXECUTED, "poll", "default", now))
        runs(JobExecutionEvent(EVENT_JOB_EXECUTED, "poll", "default", now))  # ran on time
    assert said == [
        "poll is still running at its next run time; its runs are skipped until it ends",
        "balance is still running at its next run time; its runs are skipped until it ends",
        "poll ended after 5 scheduled runs were skipped",
    ]


async def test_a_job_outlasting_its_interval_logs_its_skips_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A job held past several ticks of a 20 ms interval: two lines in all, none of APScheduler's."""
    caplog.set_level(logging.INFO)
    release = asyncio.Event()
    skips: list[object] = []
    ended: list[int] = []  # how many runs were skipped when the held run ended

    async def slow_job() -> None:
        await release.wait()

    scheduler = make_scheduler()
    scheduler.add_listener(skips.append, EVENT_JOB_MAX_INSTANCES)
    scheduler.add_listener(lambda _: ended.append(len(skips)), EVENT_JOB_EXECUTED)
    scheduler.add_job(slow_job, "interval", seconds=0.02, id="slow", max_instances=1, coalesce=True)
    scheduler.start()
    try:
        await wait_until(lambda: len(skips) >= 3, what="three skipped runs")
        release.set()
        await wait_until(lambda: bool(ended), what="the held run to end")
    finally:
        scheduler.shutdown(wait=False)
    lines = skip_lines(caplog)
    assert lines[:2] == [
        "slow is still running at its next run time; its runs are skipped until it ends",
        f"slow ended after {ended[0]} scheduled runs were skipped",
    ]
    assert not [line for line in lines if "maximum number of running" in line]


async def test_a_run_reached_late_still_runs_without_a_missed_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A run whose time passed seconds ago (a stalled loop) runs once instead of being dropped."""
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    scheduler = make_scheduler()
    late = datetime.now().astimezone() - timedelta(seconds=5)
    scheduler.add_job(job, "interval", seconds=60, id="late", coalesce=True, next_run_time=late)
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        scheduler.start()
        try:
            await asyncio.wait_for(ran.wait(), timeout=10)
        finally:
            scheduler.shutdown(wait=False)
    assert ran.is_set()
    assert not [r for r in caplog.records if "was missed by" in r.getMessage()]


class _Cycles:
    """A job of one instance on an hour's interval, run once at start; each run can be held."""

    def __init__(self) -> None:
        self.scheduler = make_scheduler()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.runs = 0
        self.release = asyncio.Event()
        self.soon = RunSoon(self.scheduler, "poll")
        self.scheduler.add_job(
            shielded(self.tasks, self._run, "poll cycle"),
            "interval",
            seconds=3600,
            id="poll",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

    async def _run(self) -> None:
        self.runs += 1
        await self.release.wait()

    def running(self) -> asyncio.Task[Any]:
        """The task of the run in progress."""
        (task,) = self.tasks
        return task


async def test_a_run_asked_for_while_none_runs_starts_at_once() -> None:
    """RunSoon with nothing in progress: the job runs now, not at its next tick an hour away."""
    cycles = _Cycles()
    cycles.release.set()
    cycles.scheduler.start()
    try:
        await wait_until(lambda: cycles.runs == 1 and not cycles.tasks, what="the first run")
        cycles.soon(running=False)
        await wait_until(lambda: cycles.runs == 2, within=2, what="the run asked for")
    finally:
        cycles.scheduler.shutdown(wait=False)


async def test_a_run_asked_for_during_a_run_follows_it_once() -> None:
    """Asked while a run is held: one more run right after it ends, and no third."""
    cycles = _Cycles()
    cycles.scheduler.start()
    try:
        await wait_until(lambda: cycles.runs == 1, what="the first run")
        cycles.soon(running=True)
        cycles.release.set()
        await wait_until(lambda: cycles.runs == 2, within=2, what="the run asked for")
        await asyncio.sleep(0.2)
        assert cycles.runs == 2
    finally:
        cycles.scheduler.shutdown(wait=False)


async def test_a_run_asked_for_as_a_run_ends_is_not_lost() -> None:
    """Asked as the run's task ends, before APScheduler has counted it ended: it still runs.

    APScheduler would skip a run asked for then (its one instance still counted), and a replica
    found gone while a poll cycle ended would have its work wait a whole poll interval.
    """
    cycles = _Cycles()
    cycles.scheduler.start()
    try:
        await wait_until(lambda: cycles.runs == 1, what="the first run")
        cycles.running().add_done_callback(lambda _task: cycles.soon(running=False))
        cycles.release.set()
        await wait_until(lambda: cycles.runs == 2, within=2, what="the run asked for")
    finally:
        cycles.scheduler.shutdown(wait=False)
