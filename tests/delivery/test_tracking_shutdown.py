"""Shutdown lets a poll cycle in progress finish: no status Mobizon already gave is lost."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlite_utils import Database

from bot.app import create_app
from bot.simulator import GET_SMS_STATUS, MobizonSimulator
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.conftest import BotHarness, SettingsFactory


async def test_a_poll_cycle_in_progress_finishes_before_the_database_closes(
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped while Mobizon is answering a status poll, the bot still records that answer."""
    sim, url = simulator
    settings = make_settings(fake_slack, url, poll_interval=0.3)
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            bot = BotHarness(str(server.make_url("/")), server.app, fake_slack, settings, session)
            await bot.command("send +55 11 98765-4321 stop while polling")
            await fake_slack.wait_for("chat.postMessage")
        sim.advance(60)  # Mobizon has a final status for it by now
        sim.set_latency(1.0, method=GET_SMS_STATUS)
        asked = sim.count(GET_SMS_STATUS)
        await wait_until(lambda: sim.count(GET_SMS_STATUS) > asked)  # a poll is in flight
    finally:
        await server.close()  # shutdown while Mobizon has not answered yet

    db = Database(tmp_path / "smsbot.db")
    try:
        (row,) = db.query("SELECT status, final_at FROM sms")
        sources = [r["source"] for r in db.query("SELECT source FROM status_history")]
    finally:
        db.close()
    assert row["final_at"] is not None
    assert "poll" in sources
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
