"""Cycle skipping after Mobizon's failures: 1, 2, 4 … cycles, capped, reset by a success."""

from __future__ import annotations

from bot.sms.delivery.skipping import CycleSkipper


def skipped_run(skipper: CycleSkipper) -> int:
    """How many cycles in a row the skipper sits out from now."""
    count = 0
    while skipper.skip_this_cycle():
        count += 1
    return count


def test_failures_double_the_skipped_cycles_up_to_the_cap() -> None:
    """Each failure in a row skips twice as many cycles as the last, never more than the cap."""
    skipper = CycleSkipper(cap=4)
    assert not skipper.skip_this_cycle()
    runs = []
    for _ in range(4):
        skipper.failed()
        runs.append(skipped_run(skipper))
    assert runs == [1, 2, 4, 4]


def test_a_success_starts_the_backoff_again() -> None:
    """After a success, the next failure skips one cycle again."""
    skipper = CycleSkipper()
    skipper.failed()
    skipper.failed()
    assert skipped_run(skipper) == 2
    skipper.succeeded()
    assert skipper.failed() == 1
    assert skipped_run(skipper) == 1
