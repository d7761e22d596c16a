"""Sends acknowledged in a burst leave once the burst's requests are answered, within a bound."""

from __future__ import annotations

import asyncio
import time

import pytest
from yarl import URL

from bot.process import app as app_module
from bot.process import quiet
from bot.process.quiet import InFlightRequests
from bot.simulator import MobizonSimulator
from testkit.waiting import wait_until
from tests.conftest import BotHarness

PHONE = "+55 11 98765-4321"


async def test_quiet_returns_at_once_with_no_request_in_flight() -> None:
    """With nothing in flight there is nothing to wait for."""
    requests = InFlightRequests()
    await asyncio.wait_for(requests.quiet(), 1)
    assert requests.count == 0


async def test_quiet_waits_for_the_last_request_in_flight_to_be_answered() -> None:
    """A waiter goes on when the last of the requests in flight is answered, not before."""
    requests = InFlightRequests()
    requests.started()
    requests.started()
    waiting = asyncio.ensure_future(requests.quiet())
    await asyncio.sleep(0.01)
    requests.answered()
    await asyncio.sleep(0.01)
    assert not waiting.done()
    requests.answered()
    await asyncio.wait_for(waiting, 1)
    assert requests.count == 0


async def test_quiet_stops_waiting_after_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a load that never lets up, a waiter goes on after its bound and is forgotten."""
    monkeypatch.setattr(quiet, "ACKS_FIRST", 0.05)
    requests = InFlightRequests()
    requests.started()
    started = time.monotonic()
    await asyncio.wait_for(requests.quiet(), 1)
    assert time.monotonic() - started >= 0.05
    assert requests._waiting == []  # no waiter left behind to leak
    assert requests._bound is None


async def test_the_waiters_of_one_busy_spell_share_one_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst's sends arm one timer between them, not one each, and all go on at its end."""
    monkeypatch.setattr(quiet, "ACKS_FIRST", 0.05)
    requests = InFlightRequests()
    requests.started()
    first = asyncio.ensure_future(requests.quiet())
    await asyncio.sleep(0)
    bound = requests._bound
    assert bound is not None
    later = [asyncio.ensure_future(requests.quiet()) for _ in range(3)]
    await asyncio.sleep(0)
    assert requests._bound is bound
    await asyncio.wait_for(asyncio.gather(first, *later), 1)
    assert requests._bound is None
    assert requests.count == 1  # the request is still in flight: the bound let them go
    # the next spell arms a timer of its own
    again = asyncio.ensure_future(requests.quiet())
    await asyncio.sleep(0)
    assert requests._bound is not None
    assert requests._bound is not bound
    requests.answered()
    await asyncio.wait_for(again, 1)
    assert requests._bound is None


async def test_a_cancelled_waiter_leaves_the_others_to_go_on() -> None:
    """A send cancelled while it waits (a stop, say) is forgotten; the rest go on at the quiet."""
    requests = InFlightRequests()
    requests.started()
    cancelled = asyncio.ensure_future(requests.quiet())
    waiting = asyncio.ensure_future(requests.quiet())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    requests.answered()
    await asyncio.wait_for(waiting, 1)
    assert cancelled.cancelled()
    assert requests._waiting == []


async def _held_request(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, *, acks_first: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A webhook request whose body stops after 3 of its 1000 bytes: in flight until finished.

    The body may take 30 s; a send waits ``acks_first`` seconds at most for such a request.
    """
    monkeypatch.setattr(app_module, "BODY_READ_TIMEOUT", 30.0)
    monkeypatch.setattr(quiet, "ACKS_FIRST", acks_first)
    url = URL(bot.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"POST /mobizon/webhook HTTP/1.1\r\nHost: {url.host}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\nabc".encode()
    )
    await writer.drain()
    await wait_until(lambda: bot.runtime.requests.count == 1, what="the request to be taken")
    return reader, writer


async def test_a_send_leaves_once_the_request_in_flight_is_answered(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An acknowledged send waits while another request waits for its answer, then leaves."""
    reader, writer = await _held_request(bot, monkeypatch, acks_first=30.0)
    try:
        assert await bot.command(f"send {PHONE} after the acks") == (200, "")
        await asyncio.sleep(0.3)
        assert sim.count("sendSmsMessage") == 0
        writer.write(b"x" * 997)  # the rest of the body: the request is answered
        await writer.drain()
        assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 ")
        await wait_until(lambda: sim.count("sendSmsMessage") == 1, what="the send to leave")
    finally:
        writer.close()
    assert bot.runtime.requests.count == 0


async def test_a_send_waits_for_the_requests_in_flight_at_most_its_bound(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that never finishes holds an acknowledged send back only ACKS_FIRST seconds."""
    _reader, writer = await _held_request(bot, monkeypatch, acks_first=0.2)
    try:
        started = time.monotonic()
        assert await bot.command(f"send {PHONE} within the bound") == (200, "")
        await wait_until(lambda: sim.count("sendSmsMessage") == 1, what="the send to leave")
        assert time.monotonic() - started >= 0.2
        assert bot.runtime.requests.count == 1  # still held: the send did not wait for it
    finally:
        writer.close()
