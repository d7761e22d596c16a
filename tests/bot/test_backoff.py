"""The one backoff (capped exponential, full jitter) the Mobizon client and the notifier share."""

from __future__ import annotations

import random

import pytest
import tenacity

from bot.mobizon import RetryPolicy, backoff


@pytest.mark.parametrize(
    ("retry_number", "limit"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]
)
def test_backoff_doubles_from_first_up_to_the_cap_with_full_jitter(
    retry_number: int, limit: float
) -> None:
    """Retry n waits anywhere from 0 to min(cap, first * 2**(n-1)): 0.5, 1, 2, 4, then 8 s."""
    delays = [backoff(retry_number, first=0.5, cap=8.0) for _ in range(400)]
    assert all(0 <= delay <= limit for delay in delays)
    assert min(delays) < limit / 4  # full jitter: waits near 0 happen, not only the top half
    assert max(delays) > limit * 3 / 4


def test_backoff_survives_a_huge_retry_number() -> None:
    """A row retried thousands of times still waits at most the cap (no overflow)."""
    assert 0 <= backoff(10_000, first=1.0, cap=300.0) <= 300.0


def test_backoff_counts_retries_from_one() -> None:
    """Retry 0 is not a retry: refused."""
    with pytest.raises(ValueError, match="from 1"):
        backoff(0, first=1.0, cap=8.0)


@pytest.mark.parametrize(
    ("retry_number", "limit"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (10_000, 8.0)],
)
def test_backoff_draws_uniformly_from_zero_to_the_limit(
    monkeypatch: pytest.MonkeyPatch, retry_number: int, limit: float
) -> None:
    """Each wait is one uniform draw over exactly [0, min(cap, first * 2**(n-1))]."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    monkeypatch.setattr(random, "uniform", uniform)
    assert backoff(retry_number, first=0.5, cap=8.0) == limit
    assert draws == [(0, limit)]


def test_the_clients_retry_loop_waits_the_same_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Mobizon client's tenacity wait draws over the same range as ``backoff``, retry by retry."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    monkeypatch.setattr(random, "uniform", uniform)
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=3.0)
    for retry_number in range(1, 10):
        state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = retry_number
        assert policy.wait(state) == backoff(retry_number, first=0.5, cap=3.0)
    assert draws[0::2] == draws[1::2]
    assert [high for _, high in draws[0::2]] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]
