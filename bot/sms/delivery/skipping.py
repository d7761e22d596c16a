"""Skipping whole cycles while Mobizon keeps failing or rate-limiting: 1, 2, 4 … up to a cap."""

from __future__ import annotations

#: The most cycles skipped in a row.
MAX_SKIP = 16


class CycleSkipper:
    """Tells a periodic job whether to sit this cycle out, and backs off after failures."""

    def __init__(self, cap: int = MAX_SKIP) -> None:
        self._cap = cap
        self._skip = 0
        self._backoff = 0

    def skip_this_cycle(self) -> bool:
        """True when this cycle is to be skipped (and counts it as skipped)."""
        if self._skip > 0:
            self._skip -= 1
            return True
        return False

    def succeeded(self) -> None:
        """Mobizon answered: the next failure starts from one skipped cycle again."""
        self._backoff = 0

    def failed(self) -> int:
        """Mobizon failed or limited us: skip twice as many cycles as last time; return how many."""
        self._backoff = min(self._cap, max(1, self._backoff * 2))
        self._skip = self._backoff
        return self._skip
