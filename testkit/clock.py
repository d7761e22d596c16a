"""Clocks for tests (:class:`bot.sms.clock.Clock`): sleeps return at once, moving time on."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class FastForwardClock:
    """Real time plus everything slept so far: ``sleep(s)`` advances the clock by ``s`` at once.

    The wall time (``now``) and the monotonic time move together, so rows written with the real
    time are due as usual, a row put off by ``s`` seconds is due after a ``sleep(s)``, and pacing
    can be checked on :attr:`sleeps` without waiting through it. Pass :meth:`monotonic` to
    :class:`testkit.slack.FakeSlack` so its own pacing runs on the same time.
    """

    def __init__(self) -> None:
        self.skipped = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The real UTC time plus the time skipped."""
        return datetime.now(UTC) + timedelta(seconds=self.skipped)

    def monotonic(self) -> float:
        """:func:`time.monotonic` plus the time skipped."""
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        """Skip ``seconds`` and let other tasks run once."""
        self.sleeps.append(seconds)
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)


class ManualClock:
    """A clock that moves only when the test moves it: :attr:`at` is its time.

    ``monotonic`` counts seconds along ``at``, so moving ``at`` (or :meth:`advance`) moves both;
    ``sleep(s)`` advances ``s`` at once.
    """

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The time set."""
        return self.at

    def monotonic(self) -> float:
        """Seconds since the epoch of :attr:`at` (never goes back unless the test sets it so)."""
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.at += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Advance ``seconds`` and let other tasks run once."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
