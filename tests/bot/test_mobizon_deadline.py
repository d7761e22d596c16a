"""Every Mobizon call ends within one deadline, its tries and waits included, however Mobizon stalls."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

import bot.process.app
from bot.mobizon import DEFAULT_TIMEOUTS, MobizonClient, MobizonTimeoutError, OutgoingSms, Timeouts
from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator
from tests.bot.conftest import ClientFactory
from tests.conftest import BotHarness

#: Each exchange may wait longer than the whole call: only the call's deadline can end it.
SLOW_EXCHANGE = Timeouts(connect=1.0, total=0.15, deadline=0.5)


def test_stated_deadline() -> None:
    """A call's deadline is 15 s, longer than one exchange (10 s), so a slow answer still counts."""
    assert (DEFAULT_TIMEOUTS.total, DEFAULT_TIMEOUTS.deadline) == (10.0, 15.0)
    with pytest.raises(ValueError, match="positive"):
        Timeouts(deadline=0)


async def test_a_read_stops_retrying_at_the_deadline(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """Mobizon takes each request and never answers: a read gives up at its deadline, not after 4 tries."""
    sim, url = simulator
    sim.hold()
    client = make_client(url, timeouts=SLOW_EXCHANGE)
    started = time.monotonic()
    with pytest.raises(MobizonTimeoutError) as caught:
        await client.get_sms_status([1])
    elapsed = time.monotonic() - started
    assert str(caught.value) == "Mobizon did not answer within 0.5 s. Try again in a minute."
    assert caught.value.details == {"seconds": 0.5}
    # 4 tries of 0.15 s would take 0.6 s: the deadline cut the fourth
    assert 0.5 <= elapsed < 2.5
    assert sim.count(GET_SMS_STATUS) == 4


async def test_a_send_at_the_deadline_is_an_unknown_outcome_never_retried(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A send Mobizon took and never answered is cut at the deadline, once, and may have been sent."""
    sim, url = simulator
    sim.hold()
    client = make_client(url, timeouts=Timeouts(connect=1.0, total=30.0, deadline=0.5))
    started = time.monotonic()
    with pytest.raises(MobizonTimeoutError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "held"))
    assert time.monotonic() - started < 2.5
    assert caught.value.outcome_unknown
    assert "may still have been sent" in str(caught.value)
    assert sim.count(SEND_SMS) == 1
    assert client.requests_made == 1


async def test_a_send_waiting_for_its_lane_goes_out_after_the_deadline(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A send queued behind others longer than the deadline is sent once its lane frees."""
    sim, url = simulator
    client = make_client(url, max_concurrency=1, timeouts=Timeouts(total=30.0, deadline=0.3))
    async with client._send_slots:  # the only send slot, taken for longer than the deadline
        queued = asyncio.create_task(client.send_sms(OutgoingSms("5511987654322", "queued")))
        await asyncio.sleep(0.5)
        assert not queued.done()
    sent = await queued
    assert sent.message_id
    assert sim.count(SEND_SMS) == 1


async def test_a_read_waiting_for_its_lane_ends_at_the_deadline(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A read whose lane stays full past the deadline says so: whoever asked hears in time."""
    sim, url = simulator
    client = make_client(url, max_concurrency=1, timeouts=Timeouts(total=30.0, deadline=0.3))
    async with client._slots:
        with pytest.raises(MobizonTimeoutError):
            await client.get_balance()
    assert sim.requests == []


async def test_balance_answers_within_the_deadline_when_mobizon_is_silent(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``/sms balance`` against a Mobizon that never answers says so within the call's deadline."""
    sim, url = simulator
    monkeypatch.setattr(
        bot.process.app, "MobizonClient", functools.partial(MobizonClient, timeouts=SLOW_EXCHANGE)
    )
    harness: BotHarness = await start_bot(url)
    await harness.first_poll_cycle_done()
    sim.hold()
    started = time.monotonic()
    assert await harness.command("balance") == (200, "")
    (told,) = await harness.slack.wait_for_responses(1, timeout=5)
    # 4 tries of 0.15 s and the random waits between them: up to 4 s
    assert time.monotonic() - started < 0.5 + 1.5
    assert "Mobizon did not answer within 0.5 s." in told.params["text"]
