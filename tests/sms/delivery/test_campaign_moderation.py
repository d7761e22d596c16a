"""A send to many held for moderation and declined: its one message and summary say so.

The decline, and the moderator's comment, come through the moderation watch, as a single send's.
"""

from __future__ import annotations

from bot.simulator import MobizonSimulator
from tests.conftest import BotHarness
from tests.handlers.conftest import block_texts
from tests.sms.delivery.test_moderation import watch

THREE = ["5511987654300", "5511987654301", "5511987654303"]


def campaign_posts_text(bot: BotHarness) -> str:
    """Every post and edit Slack took, as its texts."""
    calls = [*bot.slack.called("chat.postMessage"), *bot.slack.called("chat.update")]
    return "\n".join(
        str(call.params.get("text", "")) + "\n" + block_texts(call.params.get("blocks") or [])
        for call in calls
    )


async def test_a_declined_campaign_is_summed_up_with_the_moderators_comment(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Held, then declined: the campaign's summary names the decline and the comment, once."""
    await bot.first_poll_cycle_done()  # its own moderation watch would race the test's
    sim.set_moderation(True)
    before = len(bot.slack.responses)
    assert await bot.command("send " + ", ".join(THREE) + " Big sale today") == (200, "")
    told = (await bot.slack.wait_for_responses(before + 1))[before].params["text"]
    assert "moderators" in told
    (campaign_id,) = sim.bulk_campaigns
    watcher = watch(bot)
    assert await watcher.run_once() == 0  # still held: nothing changes
    sim.moderate(campaign_id, approve=False, comment="Links are <not> allowed")
    assert await watcher.run_once() >= 1
    await bot.slack.wait_for("chat.postMessage", 2)  # the message, then its summary
    shown = campaign_posts_text(bot)
    assert "Links are &lt;not&gt; allowed" in shown
    summaries = [
        call
        for call in bot.slack.called("chat.postMessage")
        if call.params.get("thread_ts") is not None
    ]
    assert len(summaries) == 1
    assert "Delivered 0 of 3" in block_texts(summaries[0].params.get("blocks") or []) + str(
        summaries[0].params.get("text", "")
    )
