"""Sends and status reads take separate lanes: a long poll never holds up a person's send."""

from __future__ import annotations

import asyncio

from bot.mobizon.client import MobizonClient
from bot.mobizon.types import OutgoingSms
from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY


async def test_a_send_is_not_queued_behind_a_long_status_poll(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """With every read slot busy on slow status calls, a send still goes out and returns first."""
    sim, url = simulator
    # each read takes long enough that the send's own round trip fits in it on a loaded machine
    sim.set_latency(3.0, method=GET_SMS_STATUS)
    async with MobizonClient(MOBIZON_KEY, base_url=url, max_concurrency=2) as client:
        # 400 ids: 4 requests through 2 read slots, so two rounds of 3 s each
        poll = asyncio.create_task(client.get_sms_status(range(1, 401)))
        await wait_until(lambda: sim.count(GET_SMS_STATUS) == 2)  # both read slots taken

        sent = await client.send_sms(OutgoingSms("5511987654321", "not stuck behind the poll"))

        assert not poll.done()
        assert sim.count(GET_SMS_STATUS) == 2  # the first round of reads is still in flight
        assert sent.message_id in sim.messages
        assert await poll == {}
    assert sim.count(SEND_SMS) == 1
