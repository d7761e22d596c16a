"""``/sms cancel`` of a send to many by its Mobizon campaign id: the whole campaign, or nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.simulator import MobizonSimulator
from handlers import campaign_cancel_words as said
from storage import messages
from tests.conftest import BotHarness
from tests.handlers.conftest import answered_later

pytestmark = pytest.mark.usefixtures("secret_guard")

THREE = ["5511987654300", "5511987654301", "5511987654303"]


def deletes(sim: MobizonSimulator) -> int:
    """How many campaign/delete requests reached the simulator."""
    return sum(r.module == "campaign" and r.method == "delete" for r in sim.requests)


async def send_to_three(bot: BotHarness, sim: MobizonSimulator, *, at: str = "") -> int:
    """Send one text to three numbers (at once: under the preview threshold); its campaign id."""
    before = len(bot.slack.responses)
    assert await bot.command(f"send {at}{', '.join(THREE)} See you all") == (200, "")
    await bot.slack.wait_for_responses(before + 1)
    (campaign_id,) = sim.bulk_campaigns
    return int(campaign_id)


def scheduled(bot: BotHarness) -> str:
    """``--at`` two days ahead, in the Mobizon account's zone."""
    at = (datetime.now(bot.settings.mobizon_timezone) + timedelta(days=2)).replace(
        hour=14, minute=30
    )
    return f'--at "{at:%Y-%m-%d %H:%M}" '


async def test_a_scheduled_campaign_is_cancelled_whole_by_its_id(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Cancelling a scheduled campaign's id deletes it once and marks each of its SMS cancelled."""
    campaign_id = await send_to_three(bot, sim, at=scheduled(bot))
    told = await answered_later(bot, f"cancel {campaign_id}")
    assert told == said.cancelled(campaign_id)
    assert deletes(sim) == 1
    ids = sim.bulk_campaigns[campaign_id].message_ids
    assert len(ids) == 3
    for message_id in ids:
        row = messages.get_by_message_id(bot.db, message_id)
        assert row is not None
        assert (row.cancelled_by, row.status, row.is_pending) == ("U1", "DELETED", False)
    again = await answered_later(bot, f"cancel {campaign_id}", user_id="U1")
    assert again == said.already_cancelled(campaign_id, "U1")
    assert deletes(sim) == 1


async def test_a_campaign_sent_at_once_has_nothing_to_cancel(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A campaign sent at once is not deleted: the sentence says only scheduled sends can be."""
    campaign_id = await send_to_three(bot, sim)
    told = await answered_later(bot, f"cancel {campaign_id}")
    assert told == said.not_scheduled(campaign_id)
    assert deletes(sim) == 0


async def test_only_the_sender_cancels_a_campaign(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Someone else's cancel of a campaign is refused, naming who sent it; nothing deleted."""
    campaign_id = await send_to_three(bot, sim, at=scheduled(bot))
    told = await answered_later(bot, f"cancel {campaign_id}", user_id="U2")
    assert told == said.not_yours(campaign_id, "U1")
    assert deletes(sim) == 0


async def test_mobizon_refusing_the_delete_leaves_the_campaign_cancellable(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Mobizon saying it is too late is told as such, and the campaign's SMS stay as they were."""
    campaign_id = await send_to_three(bot, sim, at=scheduled(bot))
    sim.fail_next("campaign/delete", code=10)
    told = await answered_later(bot, f"cancel {campaign_id}")
    assert told == said.too_late(campaign_id)
    first = messages.get_by_message_id(bot.db, sim.bulk_campaigns[campaign_id].message_ids[0])
    assert first is not None
    assert (first.cancelled_by, first.cancelling_by) == (None, None)
