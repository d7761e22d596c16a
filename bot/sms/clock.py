"""The process's time, one small type: the wall clock, a monotonic clock, and sleeping on it.

Whatever reads the time or waits for it takes a :class:`Clock` (by default :data:`SYSTEM_CLOCK`),
so a test injects a fake one (``testkit.clock``) and never sleeps for time to pass.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Final, Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    """The wall clock (times stored and compared), a monotonic one (intervals), sleeping."""

    def now(self) -> datetime:
        """The current UTC time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (pacing, Retry-After, deadlines, caches)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class SystemClock:
    """The real clocks and :func:`asyncio.sleep`."""

    def now(self) -> datetime:  # noqa: D102  # on Clock
        return datetime.now(UTC)

    def monotonic(self) -> float:  # noqa: D102  # on Clock
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:  # noqa: D102  # on Clock
        await asyncio.sleep(seconds)


#: The real time, shared: the default wherever a clock is taken.
SYSTEM_CLOCK: Final[Clock] = SystemClock()
