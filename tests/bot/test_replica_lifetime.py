"""A running bot is one of the replicas on its database, and says so again if taken for dead."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.process import tracking
from storage import replicas
from testkit.database import run_sql
from tests.conftest import BotHarness


async def test_a_bot_registers_and_registers_again_once_taken_for_dead(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Started, its replica row exists; removed (taken for dead), the next heartbeat restores it."""
    me = bot.runtime.replica_id
    assert [r.id for r in replicas.live_replicas(bot.db)] == [me]

    run_sql(bot.db, "DELETE FROM replicas")
    heartbeat = tracking.Heartbeat(bot.runtime, replicas.LEASE, on_gone=lambda: None)
    with caplog.at_level(logging.WARNING):
        await heartbeat.beat()

    assert [r.id for r in replicas.live_replicas(bot.db)] == [me]
    assert any("taken for dead" in r.getMessage() for r in caplog.records)


async def test_a_heartbeat_takes_over_at_once_the_work_of_a_replica_whose_lease_ran_out(
    bot: BotHarness,
) -> None:
    """A replica live at one beat and past its lease at the next is taken over once, at once."""
    gone: list[int] = []
    heartbeat = tracking.Heartbeat(bot.runtime, replicas.LEASE, on_gone=lambda: gone.append(1))
    replicas.register(bot.db, "other", host="elsewhere", pid=1)
    await heartbeat.beat()
    assert gone == []  # both alive

    silent_since = datetime.now(UTC) - replicas.LEASE - replicas.HEARTBEAT_EVERY
    assert replicas.heartbeat(bot.db, "other", now=silent_since)
    await heartbeat.beat()
    assert gone == [1]
    await heartbeat.beat()
    assert gone == [1]  # taken over once, not at every beat
