"""A burst of `/sms send` over real sockets: every acked command is recorded, a duplicate sends once.

The claims of a burst are written together (group commit): on SQLite and on PostgreSQL, each
command's row is in the database when its ack returns, and a command Slack delivers twice in
the same burst is claimed, and sent, once.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from storage.schema import open_database
from testkit.database import run_sql
from testkit.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from bot.simulator import MobizonSimulator
    from storage.engine import Database
    from tests.conftest import BotHarness

PHONE = "+55 11 98765-4321"
BURST = 20


@pytest.fixture(params=["sqlite", "postgresql"])
async def burst_bot(
    request: pytest.FixtureRequest,
    simulator: tuple[MobizonSimulator, str],
    start_bot: Callable[..., Any],
) -> AsyncIterator[tuple[BotHarness, Database]]:
    """The bot on a database of each engine, and a connection of the test's own to it."""
    if request.param == "sqlite":
        bot: BotHarness = await start_bot(simulator[1])
        yield bot, bot.db
        return
    url = request.getfixturevalue("fresh_postgres_url")
    bot = await start_bot(simulator[1], database_url=url)
    with closing(open_database(url)) as db:
        yield bot, db
        db.engine.dispose()


async def test_every_command_of_a_burst_is_recorded_before_its_ack(
    burst_bot: tuple[BotHarness, Database], sim: MobizonSimulator
) -> None:
    """Commands fired at once, one delivered twice: each ack finds its row; one SMS per command."""
    bot, db = burst_bot
    bodies = [bot.command_body(f"send {PHONE} burst {i}") for i in range(BURST)]
    bodies.insert(BURST // 2, dict(bodies[3]))  # Slack delivers command 3 a second time

    async def command(body: dict[str, str]) -> tuple[int, int]:
        status, _ = await bot.post_signed(urlencode(body))
        (row,) = run_sql(
            db, "SELECT count(*) AS n FROM sms WHERE trigger_id = :key", key=body["trigger_id"]
        )
        return status, int(row["n"])

    answers = await asyncio.gather(*(command(body) for body in bodies))
    assert answers == [(200, 1)] * (BURST + 1)
    await wait_until(
        lambda: (
            sim.count("sendSmsMessage") >= BURST
            and run_sql(db, "SELECT count(*) AS n FROM sms WHERE state = 'sent'")[0]["n"] == BURST
        ),
        what="every command to be sent",
    )
    texts = sorted(message.text for message in sim.messages.values())
    assert texts == sorted(f"burst {i}" for i in range(BURST))  # command 3 once, none lost
