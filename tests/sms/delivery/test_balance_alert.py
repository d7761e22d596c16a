"""The low-balance alert: one alert on the drop, one note on recovery, kept across restarts."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.process.settings import Settings, SettingsError
from bot.process.slack_client import make_slack_client
from bot.process.tracking import balance_watch
from bot.simulator import GET_BALANCE, MobizonSimulator
from bot.sms.delivery.balance_watch import BalanceWatch
from handlers.posting import post_balance_alert
from storage import account
from storage.schema import open_database
from testkit.waiting import wait_until
from tests.conftest import BotHarness


def alerts(bot: BotHarness) -> list[str]:
    """Texts the bot posted in the alert channel."""
    return [
        str(c.params["text"])
        for c in bot.slack.called("chat.postMessage")
        if c.params["channel"] == "C0ALERTS"
    ]


async def start_up_check_done(bot: BotHarness) -> None:
    """Wait until the balance check the bot runs as it starts is over (it would race the test's)."""

    def over() -> bool:
        seen = "smsbot_balance{" in bot.runtime.metrics.exposition().decode()
        running = [t for t in asyncio.all_tasks() if t.get_name() == "balance check"]
        return seen and not running

    await wait_until(over, what="the start-up balance check to end")


async def test_one_alert_on_drop_one_note_on_recovery_across_a_restart(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> None:
    """Below the threshold: one alert, none per cycle, none again after a restart; then one note."""
    sim, url = simulator
    sim.set_pricing("0.25", "BRL")
    bot: BotHarness = await start_bot(url, low_balance=Decimal(50), alert_channel="C0ALERTS")
    await start_up_check_done(bot)
    async with aiohttp.ClientSession() as session:
        slack = make_slack_client(bot.settings, session)
        watch = balance_watch(bot.runtime, slack)
        assert watch is not None
        sim.set_balance("100")
        assert await watch.run_once() is None
        sim.set_balance("10")
        assert await watch.run_once() == "alert"
        assert await watch.run_once() is None  # never an alert per cycle
        restarted = balance_watch(bot.runtime, slack)  # a new process reads the kept state
        assert isinstance(restarted, BalanceWatch)
        assert await restarted.run_once() is None
        sim.set_balance("75")
        assert await restarted.run_once() == "recovered"
        assert await restarted.run_once() is None
    said = alerts(bot)
    assert len(said) == 2
    assert "10.00 BRL" in said[0]
    assert "/sms balance" in said[0]
    assert "back to 75.00 BRL" in said[1]
    assert 'smsbot_balance{currency="BRL"} 75.0' in bot.runtime.metrics.exposition().decode()


def test_alert_settings_go_together() -> None:
    """SMSBOT_LOW_BALANCE needs SMSBOT_ALERT_CHANNEL, an amount and a channel id."""
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s" * 32, "SMSBOT_SANDBOX": "1"}
    ok = Settings.from_env({**base, "SMSBOT_LOW_BALANCE": "12.5", "SMSBOT_ALERT_CHANNEL": "C012AB"})
    assert (ok.low_balance, ok.alert_channel) == (Decimal("12.5"), "C012AB")
    for extra in (
        {"SMSBOT_LOW_BALANCE": "12"},
        {"SMSBOT_LOW_BALANCE": "lots", "SMSBOT_ALERT_CHANNEL": "C012AB"},
        {"SMSBOT_LOW_BALANCE": "12", "SMSBOT_ALERT_CHANNEL": "#general"},
    ):
        with pytest.raises(SettingsError, match="SMSBOT_"):
            Settings.from_env({**base, **extra})


async def test_the_running_bot_checks_the_balance_on_its_own(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> None:
    """Started with the balance already below SMSBOT_LOW_BALANCE, the bot alerts by itself, once."""
    sim, url = simulator
    sim.set_balance("10")
    bot: BotHarness = await start_bot(url, low_balance=Decimal(50), alert_channel="C0ALERTS")
    await wait_until(lambda: len(alerts(bot)) == 1, what="the low-balance alert")
    assert "10" in alerts(bot)[0]


async def two_replicas(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any], database_url: str
) -> tuple[BotHarness, BotHarness]:
    """Two bots with the alert configured on one PostgreSQL database, their start-up check over.

    The balance is fine when they start: one of them checks it (its turn), neither alerts.
    """
    sim, url = simulator
    sim.set_balance("100")
    options = {
        "low_balance": Decimal(50),
        "alert_channel": "C0ALERTS",
        "database_url": database_url,
    }
    first: BotHarness = await start_bot(url, **options)
    second: BotHarness = await start_bot(url, **options)

    def checked() -> bool:
        running = [t for t in asyncio.all_tasks() if t.get_name() == "balance check"]
        return sim.count(GET_BALANCE) == 1 and not running

    await wait_until(checked, what="one start-up balance check of the two replicas")
    return first, second


async def test_two_replicas_check_the_balance_once_and_alert_once(
    fresh_postgres_url: str,
    simulator: tuple[MobizonSimulator, str],
    start_bot: Callable[..., Any],
) -> None:
    """Two replicas' watches at the same moment: one balance request and one alert, not two."""
    sim, _ = simulator
    first, second = await two_replicas(simulator, start_bot, fresh_postgres_url)
    assert sim.count(GET_BALANCE) == 1  # at start too, one of them checked
    sim.set_balance("10")
    async with aiohttp.ClientSession() as session:
        watches = [
            balance_watch(bot.runtime, make_slack_client(bot.settings, session))
            for bot in (first, second)
        ]
        results = await asyncio.gather(*(watch.run_once() for watch in watches if watch))
    assert sorted(map(str, results)) == ["None", "alert"]
    assert sim.count(GET_BALANCE) == 2  # this interval's check: one request
    assert len(alerts(first)) == 1
    with closing(open_database(fresh_postgres_url)) as db:
        assert account.get_state(db, account.LOW_BALANCE_KEY) == "low"


async def test_two_replicas_checking_at_once_post_the_alert_once(
    fresh_postgres_url: str,
    simulator: tuple[MobizonSimulator, str],
    start_bot: Callable[..., Any],
) -> None:
    """Both check (turns aside): the replica that claimed the alert posts it; the other does not."""
    sim, _ = simulator
    first, second = await two_replicas(simulator, start_bot, fresh_postgres_url)
    sim.set_balance("10")
    first.slack.held.add("chat.postMessage")  # the claimant's post waits for Slack's answer
    async with aiohttp.ClientSession() as session:
        watches = [unturned_watch(bot, session) for bot in (first, second)]
        checks = {asyncio.create_task(watch.run_once()) for watch in watches}
        done, posting = await asyncio.wait(checks, return_when=asyncio.FIRST_COMPLETED)
        assert [task.result() for task in done] == [None]  # saw the other's claim: left it
        first.slack.release_held()
        assert [await task for task in posting] == ["alert"]
    assert sim.count(GET_BALANCE) == 3  # both asked
    assert len(alerts(first)) == 1
    with closing(open_database(fresh_postgres_url)) as db:
        assert account.get_state(db, account.LOW_BALANCE_KEY) == "low"


def unturned_watch(bot: BotHarness, session: aiohttp.ClientSession) -> BalanceWatch:
    """``bot``'s balance watch as its replica, checking at every call (no turn taken)."""
    core = bot.runtime.started()
    settings = bot.settings
    assert settings.low_balance is not None
    assert settings.alert_channel is not None
    post = functools.partial(
        post_balance_alert,
        make_slack_client(settings, session),
        settings.alert_channel,
        settings.low_balance,
        language=settings.language,
    )
    return BalanceWatch(
        core.store, core.gateway, settings.low_balance, post, replica=bot.runtime.replica_id
    )
