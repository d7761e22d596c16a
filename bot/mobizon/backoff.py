"""The one backoff of smsbot: capped exponential growth with full jitter.

The Mobizon client waits it between read attempts (its retry loop is tenacity's) and the notifier
waits it before an outbox row's next try. Full jitter spreads the retries of many callers that
failed together over the whole interval, so they do not come back in step. It imports nothing of
ours, so every layer may use it.
"""

from __future__ import annotations

import random

__all__ = ["backoff"]

_MAX_EXPONENT = 62  # 2**62 seconds is past any cap; a larger exponent only risks overflow


def backoff(retry_number: int, *, first: float, cap: float) -> float:
    """Seconds to wait before retry ``retry_number`` (1 for the first retry).

    A random time from 0 up to ``min(cap, first * 2 ** (retry_number - 1))``: the limit starts at
    ``first`` and doubles with each retry until it reaches ``cap``.
    """
    if retry_number < 1:
        raise ValueError("retry_number counts retries from 1")
    limit = min(cap, first * 2.0 ** min(retry_number - 1, _MAX_EXPONENT))
    return random.uniform(0, limit)
