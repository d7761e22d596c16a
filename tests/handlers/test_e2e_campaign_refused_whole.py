"""A send to many Mobizon refuses whole: the asker hears why (its stop list), not a smsbot failure."""

from __future__ import annotations

import pytest

from bot.simulator import MobizonSimulator
from tests.conftest import BotHarness
from tests.handlers.test_e2e_campaign_hostile import STOPPED, campaign_calls, simulator_config

__all__ = ["simulator_config"]

pytestmark = pytest.mark.usefixtures("secret_guard")


async def test_a_campaign_mobizon_refuses_whole_says_why(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Every number on Mobizon's stop list: the asker is told so, not that smsbot failed."""
    before = len(bot.slack.responses)
    assert await bot.command("send " + ", ".join(sorted(STOPPED)[:3]) + " Oi") == (200, "")
    said = (await bot.slack.wait_for_responses(before + 1))[before].params["text"]
    assert "smsbot's side" not in said
    assert "stop list" in said
    assert campaign_calls(sim, "send") == 0
