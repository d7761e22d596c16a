"""The sender-name cache: trusted for an hour, fetched again on demand, stale kept on failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.mobizon import MobizonGatewayError, SenderName
from bot.sms.sending.senders import REFRESH_SECONDS, SenderNames
from testkit.clock import ManualClock


class Names:
    """A gateway stand-in that counts ``alphaname/list`` calls and can fail."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.calls = 0
        self.failing = False

    async def list_sender_names(self) -> tuple[SenderName, ...]:
        """The configured names, or Mobizon's failure."""
        self.calls += 1
        if self.failing:
            raise MobizonGatewayError("Mobizon did not answer")
        return tuple(
            SenderName(n, None, None, None, is_default=False, description=None) for n in self.names
        )


#: When each test's clock starts.
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_a_fetched_list_is_trusted_for_an_hour_then_fetched_again() -> None:
    """Within the hour no new fetch; at the hour one fetch brings the new names."""
    gateway, clock = Names("SHOP"), ManualClock(START)
    cache = SenderNames(gateway, clock=clock)  # type: ignore[arg-type]
    assert await cache.names() == ("SHOP",)
    gateway.names = ("SHOP", "NEWS")
    clock.at = START + timedelta(seconds=REFRESH_SECONDS - 1)
    assert await cache.names() == ("SHOP",)
    assert gateway.calls == 1
    clock.at = START + timedelta(seconds=REFRESH_SECONDS)
    assert await cache.names() == ("SHOP", "NEWS")
    assert gateway.calls == 2


async def test_an_unknown_name_is_looked_up_once_more_fresh() -> None:
    """A name missing from the cached list triggers one fresh fetch (it may be new)."""
    gateway, clock = Names("SHOP"), ManualClock(START)
    cache = SenderNames(gateway, clock=clock)  # type: ignore[arg-type]
    assert await cache.check("SHOP") == (True, ("SHOP",))
    gateway.names = ("SHOP", "NEWS")
    assert await cache.check("NEWS") == (True, ("SHOP", "NEWS"))
    assert gateway.calls == 2
    assert await cache.check("NOPE") == (False, ("SHOP", "NEWS"))
    assert gateway.calls == 3


async def test_a_failed_fetch_keeps_the_stale_list_and_none_without_one() -> None:
    """Mobizon failing: the last list still answers; with none fetched yet, the check is unknown."""
    gateway, clock = Names("SHOP"), ManualClock(START)
    cache = SenderNames(gateway, clock=clock)  # type: ignore[arg-type]
    gateway.failing = True
    assert await cache.check("SHOP") == (None, ())
    gateway.failing = False
    assert await cache.names() == ("SHOP",)
    gateway.failing = True
    clock.at = START + timedelta(seconds=REFRESH_SECONDS * 2)
    assert await cache.names() == ("SHOP",)


async def test_an_unknown_name_during_an_outage_keeps_the_stale_list() -> None:
    """A misspelled --from while Mobizon fails: the cached names stay and still answer."""
    gateway, clock = Names("SHOP"), ManualClock(START)
    cache = SenderNames(gateway, clock=clock)  # type: ignore[arg-type]
    assert await cache.names() == ("SHOP",)
    gateway.failing = True
    assert await cache.check("SHPO") == (False, ("SHOP",))
    calls = gateway.calls
    assert await cache.check("SHOP") == (True, ("SHOP",))
    assert gateway.calls == calls  # the stale list still serves, without asking again


class SlowNames(Names):
    """Names that Mobizon gives only when the test releases them."""

    def __init__(self, *names: str) -> None:
        super().__init__(*names)
        self.release = asyncio.Event()

    async def list_sender_names(self) -> tuple[SenderName, ...]:
        """Wait for the release, then answer."""
        await self.release.wait()
        return await super().list_sender_names()


async def test_one_fetch_is_shared_and_outlives_a_caller_that_gives_up() -> None:
    """Callers waiting together make one request; one timing out does not cancel it."""
    gateway = SlowNames("SHOP")
    cache = SenderNames(gateway)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await cache.names()
    waiting = [asyncio.create_task(cache.names()) for _ in range(5)]
    await asyncio.sleep(0)
    gateway.release.set()
    assert await asyncio.gather(*waiting) == [("SHOP",)] * 5
    assert gateway.calls == 1
    assert await cache.names() == ("SHOP",)
    assert gateway.calls == 1
