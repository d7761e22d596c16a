"""``/sms send`` to a list whose ack never reached Slack: the campaign is cancelled, never run."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.simulator import MobizonSimulator
from storage import campaigns as stored
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import sends

pytestmark = pytest.mark.usefixtures("secret_guard")


async def test_a_list_sent_at_once_whose_ack_failed_is_cancelled_not_left_confirmed(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored confirmed during the ack, the ack fails: cancelled, so no replica runs it later."""

    async def failing_ack(self: AsyncAck, *args: Any, **kwargs: Any) -> Any:
        msg = "the ack did not reach Slack"
        raise RuntimeError(msg)

    monkeypatch.setattr(AsyncAck, "__call__", failing_ack)
    await bot.command("send 5511987654300, 5511987654301, 5511987654303 Olá a todos")
    await wait_until(lambda: not bot.runtime.inflight.tasks, what="the command's listener")
    campaign = stored.campaign_by_trigger(bot.db, bot.sent[-1]["trigger_id"])
    assert campaign is not None
    assert campaign.state == "cancelled"
    assert [r for r in sim.requests if r.module == "campaign"] == []
    assert sends(sim) == []
