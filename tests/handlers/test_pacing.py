"""The per-channel pacer: one slot per interval, and a late wake-up moves the next slot on."""

from __future__ import annotations

from handlers.pacing import ChannelPacer
from testkit.clock import ManualClock


class StallingClock(ManualClock):
    """A clock whose sleeps overshoot by ``stall`` seconds, as on a stalled machine."""

    def __init__(self, stall: float) -> None:
        super().__init__()
        self.stall = stall

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` plus the stall."""
        await super().sleep(seconds + self.stall)


async def test_posts_to_one_channel_are_one_interval_apart_and_channels_apart_are_not() -> None:
    """Three posts to one channel leave one interval apart; another channel does not wait."""
    clock = ManualClock()
    pacer = ChannelPacer(clock, interval=1.0)
    start = clock.monotonic()
    left = []
    for _ in range(3):
        await pacer.pace("C1")
        left.append(clock.monotonic() - start)
    await pacer.pace("C2")
    assert left == [0.0, 1.0, 2.0]
    assert clock.monotonic() - start == 2.0  # C2's first post waited for nothing


async def test_a_post_woken_late_pushes_the_next_one_a_whole_interval_after_it() -> None:
    """A sleep that overshoots (a stall) does not leave the next post less than an interval behind."""
    clock = StallingClock(stall=0.5)
    pacer = ChannelPacer(clock, interval=1.0)
    await pacer.pace("C1")  # at once: no sleep, no stall
    await pacer.pace("C1")  # slot at 1.0, woken at 1.5
    second = clock.monotonic()
    clock.stall = 0.0
    await pacer.pace("C1")
    assert clock.monotonic() - second >= 1.0
