"""The pacing of posts to each channel, on the notifier's clock (:class:`bot.sms.clock.Clock`).

Slack takes about one post per second per channel; :class:`ChannelPacer` hands out one slot
per interval to each channel (a DM counts as one), and holds a channel back after a 429.

Slack counts a post when it arrives, and a post arrives some time after its slot: a stall
between the slot and the request (a busy loop, a busy machine) delays one post and not the
next, so two could arrive under a second apart however the slots are spaced. A post made in
:meth:`ChannelPacer.slot` therefore also pushes the channel's next slot to
:data:`AFTER_ANSWER` seconds after Slack answered it: Slack had it by then, so the next post
arrives at least that long after it, whatever the jitter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.sms.clock import Clock

#: Seconds between two posts to one channel. Slack documents about one post per second per
#: channel, short bursts allowed; a limiter as strict as one per second (the benchmarks' fake
#: Slack) counts them as they arrive, and with exactly 1.0 s, jitter on the way puts about half
#: of them under 1 s apart (each such post costs a 429 and a Retry-After of at least 1 s). 4%
#: absorbs 40 ms of jitter per post and keeps a drain within 5% of one post per second.
PER_CHANNEL_INTERVAL = 1.04
#: Seconds from Slack's answer to a post until the next post to its channel (Slack's own one
#: per second). On a quick connection the interval above is the longer wait and this one costs
#: nothing; it only holds back a post whose predecessor was answered late.
AFTER_ANSWER = 1.0


class ChannelPacer:
    """Reserves each channel's next free slot, ``interval`` seconds apart, on ``clock``.

    ``after_answer`` is the least time from Slack's answer to a post made in :meth:`slot` to the
    next post; it defaults to :data:`AFTER_ANSWER`, or ``interval`` when that is shorter (a
    pacer that does not pace, ``interval=0``, waits for nothing).
    """

    def __init__(
        self,
        clock: Clock,
        interval: float = PER_CHANNEL_INTERVAL,
        *,
        after_answer: float | None = None,
    ) -> None:
        self._clock = clock
        self._interval = interval
        self._after_answer = min(AFTER_ANSWER, interval) if after_answer is None else after_answer
        self._next_post: dict[str, float] = defaultdict(float)

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Wait for the channel's next slot, then post in it.

        Once the post is answered (or fails), the channel's next slot is at least
        ``after_answer`` seconds away.
        """
        await self.pace(key)
        try:
            yield
        finally:
            self.answered(key)

    def answered(self, key: str) -> None:
        """Slack answered a post to this channel now: the next waits ``after_answer`` from now."""
        self._next_post[key] = max(
            self._next_post[key], self._clock.monotonic() + self._after_answer
        )

    async def pace(self, key: str) -> None:
        """Wait for this channel's next free slot (about one post per interval), reserving it."""
        now = self._clock.monotonic()
        slot = max(now, self._next_post[key])
        self._next_post[key] = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)
            # woken late (a stalled loop or machine): the post leaves now, so the next one waits
            # a whole interval from now, not from the slot that passed
            woke = self._clock.monotonic()
            self._next_post[key] = max(self._next_post[key], woke + self._interval)

    def hold(self, key: str, delay: float) -> None:
        """Post nothing to this channel for ``delay`` seconds (Slack's Retry-After)."""
        self._next_post[key] = max(self._next_post[key], self._clock.monotonic() + delay)
