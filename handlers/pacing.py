"""The pacing of posts to each channel, on the notifier's clock (:class:`bot.sms.clock.Clock`).

Slack takes about one post per second per channel; :class:`ChannelPacer` hands out one slot
per interval to each channel (a DM counts as one), and holds a channel back after a 429.
"""

from __future__ import annotations

from collections import defaultdict

from bot.sms.clock import Clock

#: Seconds between two posts to one channel. Slack documents about one post per second per
#: channel, short bursts allowed; a limiter as strict as one per second (the benchmarks' fake
#: Slack) counts them as they arrive, and with exactly 1.0 s, jitter on the way puts about half
#: of them under 1 s apart (each such post costs a 429 and a Retry-After of at least 1 s). 4%
#: absorbs 40 ms of jitter per post and keeps a drain within 5% of one post per second.
PER_CHANNEL_INTERVAL = 1.04


class ChannelPacer:
    """Reserves each channel's next free slot, ``interval`` seconds apart, on ``clock``."""

    def __init__(self, clock: Clock, interval: float = PER_CHANNEL_INTERVAL) -> None:
        self._clock = clock
        self._interval = interval
        self._next_post: dict[str, float] = defaultdict(float)

    async def pace(self, key: str) -> None:
        """Wait for this channel's next free slot (about one post per interval), reserving it."""
        now = self._clock.monotonic()
        slot = max(now, self._next_post[key])
        self._next_post[key] = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)

    def hold(self, key: str, delay: float) -> None:
        """Post nothing to this channel for ``delay`` seconds (Slack's Retry-After)."""
        self._next_post[key] = max(self._next_post[key], self._clock.monotonic() + delay)
