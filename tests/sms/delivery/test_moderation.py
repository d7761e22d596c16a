"""Moderation end to end: a send held by Mobizon's moderators, then declined or approved."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.process.tracking import MODERATION_JOB
from bot.simulator import MobizonSimulator
from bot.sms.delivery.moderation import ModerationWatch
from bot.sms.delivery.turns import Turn
from storage import account, replicas
from storage.messages import SmsRecord, get_by_message_id
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import block_texts
from tests.sms.delivery.conftest import channel_message, outbox_drained, thread_replies

NUMBER = "5511987654321"


async def held_sms(bot: BotHarness, sim: MobizonSimulator) -> SmsRecord:
    """Send one SMS that Mobizon holds in moderation; return its record once posted."""
    await bot.first_poll_cycle_done()  # its own moderation watch would race the test's
    sim.set_moderation(True)
    await bot.command(f"send {NUMBER} Big sale today")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    # the message's ts is stored just after Slack answers the post
    await wait_until(
        lambda: getattr(get_by_message_id(bot.db, message_id), "slack_ts", None) is not None,
        what="the channel message's ts to be stored",
    )
    sms = get_by_message_id(bot.db, message_id)
    assert sms is not None
    return sms


def watch(bot: BotHarness) -> ModerationWatch:
    """A moderation watch over the running bot's database and gateway."""
    core = bot.runtime.started()
    return ModerationWatch(
        core.store,
        core.gateway,
        on_change=bot.runtime.wake_notifier,
        on_declined=bot.runtime.metrics.declined.inc,
    )


def getinfo_calls(sim: MobizonSimulator) -> int:
    """How many campaign/getinfo requests the simulator received."""
    return sum(r.module == "campaign" and r.method == "getinfo" for r in sim.requests)


async def test_declined_campaign_edits_the_post_and_replies_once(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A declined campaign: post edited with the comment, one reply, tracking stops."""
    sms = await held_sms(bot, sim)
    assert "awaiting moderation" in block_texts(channel_message(bot.slack, sms)["blocks"])
    watcher = watch(bot)
    assert await watcher.run_once() == 0  # still waiting: nothing changes
    sim.moderate(sms.campaign_id or 0, approve=False, comment="Links are <not> allowed")
    assert await watcher.run_once() == 1
    await outbox_drained(bot.db)
    shown = block_texts(channel_message(bot.slack, sms)["blocks"])
    assert "declined by Mobizon's moderators" in shown
    assert "Links are &lt;not&gt; allowed" in shown
    replies = thread_replies(bot.slack, sms)
    assert len(replies) == 1
    assert "will not be sent" in replies[0]["text"]
    row = get_by_message_id(bot.db, sms.message_id or 0)
    assert row is not None
    assert (row.moderation, row.is_pending) == ("declined", False)
    asked = getinfo_calls(sim)
    assert await watcher.run_once() == 0
    assert getinfo_calls(sim) == asked  # no longer watched
    assert "smsbot_declined_campaigns_total 1.0" in bot.runtime.metrics.exposition().decode()


async def test_approved_campaign_is_tracked_as_usual(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """An approved campaign stops being watched and its SMS stays tracked."""
    sms = await held_sms(bot, sim)
    watcher = watch(bot)
    sim.moderate(sms.campaign_id or 0, approve=True)
    assert await watcher.run_once() == 0
    row = get_by_message_id(bot.db, sms.message_id or 0)
    assert row is not None
    assert (row.moderation, row.is_pending) == ("approved", True)
    assert account.awaiting_moderation(bot.db) == {}


async def test_only_held_campaigns_are_watched_and_code_30_backs_off(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Nothing held: no getinfo at all; code 30 skips the next cycle."""
    await bot.first_poll_cycle_done()  # its own moderation watch asks getinfo too
    watcher = watch(bot)
    await bot.command(f"send {NUMBER} not held")
    await bot.slack.wait_for("chat.postMessage", 1)
    await watcher.run_once()
    assert getinfo_calls(sim) == 0
    sim.set_moderation(True)
    await bot.command(f"send {NUMBER} held")
    await bot.slack.wait_for("chat.postMessage", 2)
    sim.rate_limit_next("campaign/getinfo", times=10)
    await watcher.run_once()
    asked = getinfo_calls(sim)
    assert asked >= 1
    await watcher.run_once()  # skipped
    assert getinfo_calls(sim) == asked


async def test_the_running_bot_watches_moderation_on_its_own(
    start_bot: Any, simulator: tuple[MobizonSimulator, str]
) -> None:
    """With polling on, the bot itself asks about a held campaign and reports its decline."""
    sim, url = simulator
    bot: BotHarness = await start_bot(url, poll_interval=0.2)
    sms = await held_sms(bot, sim)
    sim.moderate(sms.campaign_id or 0, approve=False, comment="Not allowed")
    await wait_until(lambda: len(thread_replies(bot.slack, sms)) == 1, what="the decline's reply")
    assert getinfo_calls(sim) >= 1
    assert "declined by Mobizon's moderators" in block_texts(
        channel_message(bot.slack, sms)["blocks"]
    )


async def test_mobizon_failing_stops_the_watch_for_the_cycle_and_backs_off(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A Mobizon failure (code 999) on one held campaign: the others wait, the next cycle is skipped."""
    await bot.first_poll_cycle_done()  # its own moderation watch asks getinfo too
    watcher = watch(bot)
    sim.set_moderation(True)
    await bot.command(f"send {NUMBER} first held")
    await bot.command(f"send {NUMBER} second held")
    await bot.slack.wait_for("chat.postMessage", 2)
    sim.fail_next("campaign/getinfo", 999, times=50)
    assert await watcher.run_once() == 0
    asked = [r.body for r in sim.requests if r.module == "campaign" and r.method == "getinfo"]
    assert asked
    assert len(set(asked)) == 1  # one campaign asked about (with its retries), not each in turn
    await watcher.run_once()  # skipped
    assert getinfo_calls(sim) == len(asked)


async def test_two_replicas_ask_about_a_held_campaign_once_a_cycle(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Two replicas' watches in one cycle: one asks campaign/getinfo, not each of them."""
    sms = await held_sms(bot, sim)
    core = bot.runtime.started()
    await core.store.write(replicas.register, "other-replica", host="h", pid=1)
    every = timedelta(seconds=30)
    watchers = [
        ModerationWatch(
            core.store,
            core.gateway,
            on_change=bot.runtime.wake_notifier,
            turn=Turn(core.store, MODERATION_JOB, replica=replica, every=every),
        )
        for replica in (bot.runtime.replica_id, "other-replica")
    ]
    sim.moderate(sms.campaign_id or 0, approve=False, comment="Not allowed")
    asked = getinfo_calls(sim)
    declined = await asyncio.gather(*(watcher.run_once() for watcher in watchers))
    assert sorted(declined) == [0, 1]
    assert getinfo_calls(sim) == asked + 1
    await outbox_drained(bot.db)
    assert len(thread_replies(bot.slack, sms)) == 1
