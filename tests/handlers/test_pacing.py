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


async def test_a_post_answered_late_holds_the_next_one_until_a_second_after_its_answer() -> None:
    """A slow answer (the post may have reached Slack late) moves the next slot after it."""
    clock = ManualClock()
    pacer = ChannelPacer(clock, interval=1.04)
    start = clock.monotonic()
    async with pacer.slot("C1"):
        await clock.sleep(0.3)  # the request took 0.3 s to be answered
    async with pacer.slot("C1"):
        second = clock.monotonic() - start
    assert abs(second - 1.3) < 1e-6  # 1.0 after the answer, not 1.04 after the slot


async def test_a_quick_answer_leaves_the_interval_in_charge() -> None:
    """Answered at once, posts stay one interval apart: the answer's wait is the shorter one."""
    clock = ManualClock()
    pacer = ChannelPacer(clock, interval=1.04)
    start = clock.monotonic()
    for _ in range(2):
        async with pacer.slot("C1"):
            await clock.sleep(0.01)
    assert abs(clock.monotonic() - start - 1.05) < 1e-6


async def test_a_pacer_that_does_not_pace_waits_for_no_answer() -> None:
    """With no interval (test bots), a post after a slow answer goes at once."""
    clock = ManualClock()
    pacer = ChannelPacer(clock, interval=0.0)
    async with pacer.slot("C1"):
        await clock.sleep(0.3)
    before = clock.monotonic()
    async with pacer.slot("C1"):
        pass
    assert clock.monotonic() == before
