"""The low-balance alert: one alert on the drop, one note on recovery, kept across restarts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.balance import BalanceWatch
from bot.settings import Settings, SettingsError
from bot.simulator import MobizonSimulator
from bot.slack_client import make_slack_client
from bot.tracking import balance_watch
from testkit.waiting import wait_until
from tests.conftest import BotHarness


def alerts(bot: BotHarness) -> list[str]:
    """Texts the bot posted in the alert channel."""
    return [
        str(c.params["text"])
        for c in bot.slack.called("chat.postMessage")
        if c.params["channel"] == "C0ALERTS"
    ]


async def test_one_alert_on_drop_one_note_on_recovery_across_a_restart(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> None:
    """Below the threshold: one alert, none per cycle, none again after a restart; then one note."""
    sim, url = simulator
    sim.set_pricing("0.25", "BRL")
    bot: BotHarness = await start_bot(url, low_balance=Decimal(50), alert_channel="C0ALERTS")
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
