"""The process's one clock: the real one tells UTC and monotonic time, a test's moves by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot.sms.clock import SYSTEM_CLOCK, Clock
from testkit.clock import FastForwardClock, ManualClock


async def test_the_system_clock_tells_utc_and_monotonic_time_and_sleeps() -> None:
    """now() is aware UTC time, monotonic() is time.monotonic's, sleep(0) returns."""
    before = datetime.now(UTC)
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)
    first = SYSTEM_CLOCK.monotonic()
    assert time.monotonic() >= first
    await SYSTEM_CLOCK.sleep(0)
    assert SYSTEM_CLOCK.monotonic() >= first


async def test_a_manual_clock_moves_its_wall_and_monotonic_time_together() -> None:
    """advance() and sleep() move now() and monotonic() by the same seconds, and only they do."""
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    clocks: list[Clock] = [ManualClock(start), FastForwardClock()]
    manual = ManualClock(start)
    assert manual.now() == manual.now() == start
    manual.advance(90)
    assert manual.now() == start + timedelta(seconds=90)
    ticks = manual.monotonic()
    await manual.sleep(30)
    assert manual.monotonic() - ticks == 30
    assert manual.now() == start + timedelta(minutes=2)
    assert all(clock.now().tzinfo is not None for clock in clocks)
