"""A running bot is one of the replicas on its database, and says so again if taken for dead."""

from __future__ import annotations

import logging

import pytest

from bot import tracking
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
    with caplog.at_level(logging.WARNING):
        await tracking._heartbeat(bot.runtime)

    assert [r.id for r in replicas.live_replicas(bot.db)] == [me]
    assert any("taken for dead" in r.getMessage() for r in caplog.records)
