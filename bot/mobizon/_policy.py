"""How long the Mobizon client waits and how it retries: its settings, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import tenacity

from bot.mobizon._backoff import backoff, full_jitter

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUTS", "RetryPolicy", "Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait for Mobizon, in seconds: to connect, for one exchange, for a whole call.

    ``deadline`` bounds a call from its start to its answer: every try and the waits between
    them, and for a read the wait for a free lane too (a send's deadline starts once it has its
    lane: queued sends go out late rather than not at all). Whoever asked has an answer or an
    error within it, however Mobizon behaves.
    """

    connect: float = 5.0
    total: float = 10.0
    #: A person waits for the answer: Mobizon answers in well under a second when well, and
    #: 15 s leaves one slow exchange (``total``) plus a quick retry room within it.
    deadline: float = 15.0

    def __post_init__(self) -> None:
        if min(self.connect, self.total, self.deadline) <= 0:
            raise ValueError("Timeouts must be positive")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How read calls retry: ``attempts`` in all, capped exponential backoff, full jitter.

    Between two attempts the client waits :func:`~bot.mobizon._backoff.full_jitter`: up to
    ``base_delay``, the limit doubling, capped at ``max_delay``.
    Sends are retried only when the request provably never left this machine.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        return backoff(retry_number, first=self.base_delay, cap=self.max_delay)

    @property
    def wait(self) -> tenacity.wait.wait_base:
        """The same wait as :meth:`backoff`, for a tenacity retry loop."""
        return full_jitter(first=self.base_delay, cap=self.max_delay)


DEFAULT_TIMEOUTS: Final = Timeouts()
DEFAULT_RETRY: Final = RetryPolicy()
