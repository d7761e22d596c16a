"""An SMS's cost: asked once final, shown on its post and in ``/sms status``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.process.tracking import COSTS_JOB
from bot.simulator import MobizonSimulator
from bot.sms.delivery.costs import CostLookup
from bot.sms.delivery.poller import Poller
from bot.sms.delivery.turns import Turn
from storage import account, replicas
from storage.messages import get_by_message_id
from testkit.database import run_sql
from tests.conftest import BotHarness
from tests.handlers.conftest import block_texts
from tests.sms.delivery.conftest import channel_message, outbox_drained

NUMBER = "5511987654321"


async def test_cost_on_the_post_and_in_status(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Once final, the SMS's cost is asked, kept, put on its post and shown by /sms status."""
    await bot.first_poll_cycle_done()  # its own cost lookup would race the one below
    sim.set_pricing("0.25", "BRL")
    await bot.command(f"send {NUMBER} two segments? no, one")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    core = bot.runtime.started()
    lookup = CostLookup(core.store, core.gateway, on_change=bot.runtime.wake_notifier)
    assert await lookup.run_once() == 0  # not final yet: not asked
    assert not any(r.module == "message" and r.method == "list" for r in sim.requests)
    sim.set_status(message_id, "DELIVRD")
    await Poller(core.store, core.gateway, on_change=bot.runtime.wake_notifier).run_once()
    assert await lookup.run_once() == 1
    await outbox_drained(bot.db)
    sms = get_by_message_id(bot.db, message_id)
    assert sms is not None
    assert sms.cost is not None
    assert sms.currency == "BRL"
    assert "cost 0.25 BRL" in block_texts(channel_message(bot.slack, sms)["blocks"])
    assert await lookup.run_once() == 0  # known: not asked again
    assert account.costs_wanted(bot.db) == {}
    await bot.command(f"status {message_id}")
    responses = await bot.slack.wait_for_responses(1)
    assert "cost 0.25 BRL" in block_texts(responses[0].params["blocks"])


async def test_balance_adds_kept_costs_without_asking_again(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``/sms balance`` counts a kept cost as it is, asking Mobizon only for the unknown ones."""
    await bot.first_poll_cycle_done()  # its own cost lookup asks message/list too
    sim.set_pricing("0.25", "BRL")
    await bot.command(f"send {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    run_sql(bot.db, "UPDATE sms SET cost = '0.50' WHERE message_id = :m", m=message_id)
    await bot.command("balance")
    responses = await bot.slack.wait_for_responses(1)
    assert "today cost 0.50 BRL" in str(responses[0].params["text"])
    assert not any(r.module == "message" and r.method == "list" for r in sim.requests)


async def test_two_replicas_ask_about_a_cost_once_a_cycle(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Two replicas' cost lookups in one cycle: one asks message/list, not each of them."""
    await bot.first_poll_cycle_done()  # its own cost lookup would race the ones below
    sim.set_pricing("0.25", "BRL")
    await bot.command(f"send {NUMBER} asked about once")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    core = bot.runtime.started()
    sim.set_status(message_id, "DELIVRD")
    await Poller(core.store, core.gateway).run_once()
    await core.store.write(replicas.register, "other-replica", host="h", pid=1)
    every = timedelta(seconds=30)
    lookups = [
        CostLookup(
            core.store,
            core.gateway,
            turn=Turn(core.store, COSTS_JOB, replica=replica, every=every),
        )
        for replica in (bot.runtime.replica_id, "other-replica")
    ]
    recorded = await asyncio.gather(*(lookup.run_once() for lookup in lookups))
    assert sorted(recorded) == [0, 1]
    assert sum(r.module == "message" and r.method == "list" for r in sim.requests) == 1
    assert account.costs_wanted(bot.db) == {}
