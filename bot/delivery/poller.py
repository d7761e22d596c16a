"""The poller: asks Mobizon for the status of every SMS that is not final, on a schedule."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bot.mobizon.errors import MobizonError, MobizonRateLimitedError
from handlers.context import SmsGateway
from storage import delivery, messages

logger = logging.getLogger(__name__)

BATCH = 100
GRACE = timedelta(hours=1)
MAX_SKIP = 16


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll cycle did."""

    asked: int
    requests: int
    changed: int
    failed_batches: int
    gave_up: int
    seconds: float
    skipped: bool = False


class Poller:
    """One poll cycle at a time: batch the pending ids, apply what Mobizon says, give up late ones."""

    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        *,
        grace: timedelta = GRACE,
        on_change: Callable[[], None] | None = None,
        on_cycle: Callable[[PollReport], None] | None = None,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._grace = grace
        self._on_change = on_change
        self._on_cycle = on_cycle
        self._skip = 0
        self._backoff = 0

    async def run_once(self) -> PollReport:
        """Run one cycle (the scheduler's job); backs off after rate limits and gateway errors."""
        if self._skip > 0:
            self._skip -= 1
            return PollReport(0, 0, 0, 0, 0, 0.0, skipped=True)
        started = time.perf_counter()
        pending = messages.pending_for_poll(self._db, local_now=datetime.now())  # noqa: DTZ005  # --at is local wall time
        ids = [s.message_id for s in pending if s.message_id is not None]
        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        results = await asyncio.gather(
            *(self._gateway.get_sms_status(batch) for batch in batches), return_exceptions=True
        )
        changed = failed = 0
        rate_limited = False
        for result in results:
            if isinstance(result, MobizonError):
                failed += 1
                rate_limited = rate_limited or isinstance(result, MobizonRateLimitedError)
                logger.warning("status poll batch failed", extra={"error": str(result)})
                continue
            if isinstance(result, BaseException):
                raise result
            for status in result.values():
                applied = delivery.apply_status(
                    self._db,
                    delivery.StatusUpdate(
                        message_id=status.id,
                        status=status.status,
                        status_ts=_ts(status.status_updated_at),
                        segments=status.segments,
                        start_send_ts=_ts(status.start_send_at),
                        source="poll",
                    ),
                )
                changed += applied is not None
        gave_up = 0
        for sms in messages.overdue(self._db, now=datetime.now(UTC), grace=self._grace):
            gave_up += delivery.give_up(self._db, sms.id) is not None
        self._adjust_backoff(failed=failed > 0, rate_limited=rate_limited)
        if (changed or gave_up) and self._on_change is not None:
            self._on_change()
        report = PollReport(
            asked=len(ids),
            requests=len(batches),
            changed=changed,
            failed_batches=failed,
            gave_up=gave_up,
            seconds=time.perf_counter() - started,
        )
        if self._on_cycle is not None:
            self._on_cycle(report)
        return report

    def _adjust_backoff(self, *, failed: bool, rate_limited: bool) -> None:
        if not failed:
            self._backoff = 0
            return
        # skip 1, 2, 4 … cycles (capped) while Mobizon keeps failing or limiting us
        self._backoff = min(MAX_SKIP, max(1, self._backoff * 2))
        self._skip = self._backoff
        logger.warning(
            "status polling backs off",
            extra={"skip_cycles": self._skip, "rate_limited": rate_limited},
        )


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
