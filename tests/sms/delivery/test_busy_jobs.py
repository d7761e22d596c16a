"""Scheduled jobs meeting a database another process keeps locked: one warning a run, no error."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import bot.process.tracking
import storage.engine
from bot.simulator import MobizonSimulator
from storage import account
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import BotHarness

#: The bot's busy timeout in this test: every write under the lock gives up at once.
BUSY_MS = 50


def busy_warnings(caplog: pytest.LogCaptureFixture, job: str) -> int:
    """How many runs of ``job`` a busy database stopped."""
    return sum(
        r.levelno == logging.WARNING and r.getMessage().startswith(f"database busy, {job} stopped")
        for r in caplog.records
    )


async def test_a_locked_database_stops_each_job_run_with_one_warning_and_the_next_run_proceeds(
    simulator: tuple[MobizonSimulator, str],
    start_bot: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Poll cycle and balance check under another process's lock: warnings only, then they run."""
    monkeypatch.setattr(storage.engine, "BUSY_TIMEOUT_MS", BUSY_MS)
    monkeypatch.setattr(bot.process.tracking, "BALANCE_CHECK_SECONDS", 0.2)
    sim, url = simulator
    sim.set_balance("100")
    harness: BotHarness = await start_bot(
        url, poll_interval=0.2, low_balance=Decimal(50), alert_channel="C0ALERTS"
    )
    await harness.first_poll_cycle_done()
    # an event id long past remembering: the poll cycle's pruning forgets it once it can write
    run_sql(harness.db, "INSERT INTO webhook_events VALUES (7, '2020-01-01T00:00:00Z')")
    harness.slack.held.add("chat.postMessage")  # the alert is posted; Slack's answer waits
    sim.set_balance("10")
    await harness.slack.wait_for("chat.postMessage")
    holder = sqlite3.connect(harness.settings.db_path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        harness.slack.release_held()  # the alert was posted; its record meets the lock
        await wait_until(
            lambda: (
                busy_warnings(caplog, "poll cycle") >= 2
                and busy_warnings(caplog, "balance check") >= 2
            ),
            what="two runs of each job stopped by the lock",
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await wait_until(
        lambda: account.get_state(harness.db, account.LOW_BALANCE_KEY) == "low",
        what="the alert's record once the lock is gone",
    )
    await wait_until(
        lambda: run_sql(harness.db, "SELECT count(*) AS n FROM webhook_events")[0]["n"] == 0,
        what="the poll cycle's pruning once the lock is gone",
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    posted = [
        c for c in harness.slack.called("chat.postMessage") if c.params["channel"] == "C0ALERTS"
    ]
    assert len(posted) == 1  # the alert whose record was refused is not posted again
