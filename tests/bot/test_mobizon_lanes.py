"""Sends and status reads take separate lanes: a long poll never holds up a person's send.

A send is marked as leaving (its ``before_request``) only once it holds its lane.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.mobizon import BeforeRequest, MobizonClient, OutgoingSms, SendWithheld
from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY


async def test_a_send_is_not_queued_behind_a_long_status_poll(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """With every read slot busy on slow status calls, a send still goes out and returns first."""
    sim, url = simulator
    # the status reads are answered only once the send is back, however long it takes
    sim.hold(method=GET_SMS_STATUS)
    async with MobizonClient(MOBIZON_KEY, base_url=url, max_concurrency=2) as client:
        # 400 ids: 4 requests through 2 read slots, so two rounds
        poll = asyncio.create_task(client.get_sms_status(range(1, 401)))
        await wait_until(lambda: sim.count(GET_SMS_STATUS) == 2)  # both read slots taken

        sent = await client.send_sms(OutgoingSms("5511987654321", "not stuck behind the poll"))

        assert not poll.done()
        assert sim.count(GET_SMS_STATUS) == 2  # the first round of reads is still in flight
        assert sent.message_id in sim.messages
        sim.release(method=GET_SMS_STATUS)
        assert await poll == {}
        assert sim.count(GET_SMS_STATUS) == 4
    assert sim.count(SEND_SMS) == 1


async def test_a_send_is_marked_as_leaving_only_once_it_holds_its_connection(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """With one send lane busy at Mobizon, the send queued behind it is not marked while it waits."""
    sim, url = simulator
    marked: list[str] = []

    def marking(text: str) -> BeforeRequest:
        async def mark() -> bool:
            # what Mobizon has when the send is marked: its request has not left yet
            marked.append(f"{text} after {sim.count(SEND_SMS)} sends")
            return True

        return mark

    sim.hold()  # Mobizon takes the first send and answers only once released
    async with MobizonClient(MOBIZON_KEY, base_url=url, max_concurrency=1) as client:
        first = asyncio.create_task(
            client.send_sms(OutgoingSms("5511987654321", "first"), before_request=marking("first"))
        )
        await wait_until(lambda: sim.count(SEND_SMS) == 1, what="the first send at Mobizon")
        second = asyncio.create_task(
            client.send_sms(
                OutgoingSms("5511987654322", "second"), before_request=marking("second")
            )
        )
        for _ in range(20):  # the queued send runs up to its wait for the lane
            await asyncio.sleep(0)
        assert marked == ["first after 0 sends"]  # the second waits unmarked
        assert not second.done()

        sim.release()
        sent = [await first, await second]

    assert marked == ["first after 0 sends", "second after 1 sends"]
    assert [message.message_id in sim.messages for message in sent] == [True, True]


async def test_a_send_its_mark_refuses_never_leaves_and_frees_its_lane(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """A send whose before_request says no raises SendWithheld, sends nothing, holds no lane."""
    sim, url = simulator

    async def refuse() -> bool:
        return False

    async with MobizonClient(MOBIZON_KEY, base_url=url, max_concurrency=1) as client:
        with pytest.raises(SendWithheld):
            await client.send_sms(OutgoingSms("5511987654321", "withheld"), before_request=refuse)
        assert sim.count(SEND_SMS) == 0
        sent = await client.send_sms(OutgoingSms("5511987654321", "next"))
    assert sim.count(SEND_SMS) == 1
    assert sim.messages[sent.message_id].text == "next"
