"""The one backoff of smsbot: capped exponential growth with full jitter, as tenacity waits it.

The Mobizon client waits it between read attempts (its retry loop is tenacity's) and the notifier
waits it before an outbox row's next try. Full jitter spreads the retries of many callers that
failed together over the whole interval, so they do not come back in step. It imports nothing of
ours, so every layer may use it.
"""

from __future__ import annotations

import tenacity

__all__ = ["backoff", "full_jitter"]

#: A retry loop for the retry states :func:`backoff` builds; tenacity's waits only read the
#: attempt number from them.
_NO_LOOP = tenacity.Retrying()


def full_jitter(*, first: float, cap: float) -> tenacity.wait.wait_base:
    """Tenacity's wait from 0 up to ``min(cap, first * 2 ** (retry_number - 1))``.

    After attempt n fails, retry n waits a random time up to that limit: it starts at ``first``
    and doubles with each retry until it reaches ``cap``.
    """
    return tenacity.wait_random_exponential(multiplier=first, max=cap)


def backoff(retry_number: int, *, first: float, cap: float) -> float:
    """Seconds to wait before retry ``retry_number`` (1 for the first); see :func:`full_jitter`."""
    if retry_number < 1:
        raise ValueError("retry_number counts retries from 1")
    state = tenacity.RetryCallState(retry_object=_NO_LOOP, fn=None, args=(), kwargs={})
    state.attempt_number = retry_number
    return float(full_jitter(first=first, cap=cap)(state))
