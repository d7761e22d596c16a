"""Shutdown lets a poll cycle or balance check in progress finish: nothing already done is lost."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.process.app import create_app
from bot.process.tracking import NOTIFIER_CLOCK
from bot.simulator import GET_SMS_STATUS, MobizonSimulator
from storage import account
from storage.schema import open_database
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.conftest import BotHarness, SettingsFactory


async def test_a_poll_cycle_in_progress_finishes_before_the_database_closes(
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
    clock: FastForwardClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped while Mobizon is answering a status poll, the bot still records that answer."""
    sim, url = simulator
    settings = make_settings(fake_slack, url, poll_interval=0.3)
    app = create_app(settings)
    app[NOTIFIER_CLOCK] = clock  # Slack's pacing kept, not waited through

    async def answer_the_poll(_app: web.Application) -> None:
        sim.release(method=GET_SMS_STATUS)  # Mobizon answers only once the shutdown has begun

    app.on_shutdown.append(answer_the_poll)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            bot = BotHarness(str(server.make_url("/")), server.app, fake_slack, settings, session)
            await bot.command("send +55 11 98765-4321 stop while polling")
            await fake_slack.wait_for("chat.postMessage")
        sim.advance(60)  # Mobizon has a final status for it by now
        sim.hold(method=GET_SMS_STATUS)
        asked = sim.count(GET_SMS_STATUS)
        await wait_until(lambda: sim.count(GET_SMS_STATUS) > asked)  # a poll is in flight
    finally:
        await server.close()  # shutdown while Mobizon has not answered yet

    db = open_database(tmp_path / "smsbot.db")
    try:
        (row,) = run_sql(db, "SELECT status, final_at FROM sms")
        sources = [r["source"] for r in run_sql(db, "SELECT source FROM status_history")]
    finally:
        db.close()
    assert row["final_at"] is not None
    assert "poll" in sources
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_balance_check_in_progress_finishes_before_the_database_closes(
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
) -> None:
    """Stopped between the low-balance alert's post and its record, the bot still records it."""
    sim, url = simulator
    sim.set_balance("10")
    fake_slack.held.add("chat.postMessage")  # the alert is posted; Slack's answer waits
    settings = make_settings(
        fake_slack, url, low_balance=Decimal(50), alert_channel="C0ALERTS", poll_interval=60
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        await fake_slack.wait_for("chat.postMessage")
    finally:
        closing = asyncio.create_task(server.close())  # shutdown while Slack has not answered
        done, _ = await asyncio.wait({closing}, timeout=0.2)
        assert not done  # shutdown waits for the check in progress
        fake_slack.release_held()
        await closing

    db = open_database(tmp_path / "smsbot.db")
    try:
        assert account.get_state(db, account.LOW_BALANCE_KEY) == "low"
    finally:
        db.close()
