"""The poller: asks Mobizon for the status of every SMS that is not final, on a schedule."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from bot.mobizon import (
    MAX_IDS_PER_STATUS_REQUEST,
    MobizonError,
    MobizonRateLimitedError,
    SmsStatus,
)
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.delivery.skipping import CycleSkipper
from bot.sms.statuses import status_update
from storage import delivery, messages, polling, replicas, webhooks
from storage.store import Store

logger = logging.getLogger(__name__)

#: How long after an SMS's validity ran out the poller still waits for a final status.
GRACE = timedelta(hours=1)
#: Webhook event ids older than this are forgotten: far longer than the webhook accepts an
#: event after it first came (``EVENT_ID_MEMORY_FLOOR``, about two days), so none is applied twice.
WEBHOOK_EVENT_MEMORY = timedelta(days=7)
#: Ids handed to the gateway in one call, whose answers are then written in one transaction:
#: four requests' worth (the client's default lane), so a cycle's writes are a few dozen
#: transactions, each written while the next requests are in flight.
CHUNK = 4 * MAX_IDS_PER_STATUS_REQUEST


class StatusSource(Protocol):
    """What the poller needs of the gateway: Mobizon's getSMSStatus."""

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]: ...  # noqa: D102


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
    """One poll cycle at a time: ask about the pending ids, apply, give up late ones."""

    def __init__(
        self,
        store: Store,
        gateway: StatusSource,
        *,
        grace: timedelta = GRACE,
        clock: Clock = SYSTEM_CLOCK,
        on_change: Callable[[], None] | None = None,
        on_cycle: Callable[[PollReport], None] | None = None,
        timezone: tzinfo | None = None,
        sandbox: bool | None = None,
        replica: str | None = None,
        lease: timedelta = replicas.LEASE,
    ) -> None:
        self._store = store
        # with several replicas on one database, each SMS is polled by one of them: this one's
        # are those it took (None: every pending SMS, the one process on the database), about
        # its share of them, some maybe taken over from replicas whose lease ran out
        self._replica, self._lease = replica, lease
        # the Mobizon account's zone: scheduled SMS are due, and overdue, by its wall time
        self._zone = timezone
        self._gateway = gateway
        self._grace = grace
        self._clock = clock
        self._on_change = on_change
        self._on_cycle = on_cycle
        # asks only about the SMS sent in this mode (None: all): a sandbox simulator's ids
        # could name strangers' messages at Mobizon, and the reverse
        self._sandbox = sandbox
        self._skipper = CycleSkipper()

    async def run_once(self) -> PollReport:
        """Run one cycle (the scheduler's job); backs off after rate limits and gateway errors.

        The pending ids go to the gateway in calls of :data:`CHUNK` (the client splits each
        into getSMSStatus requests of at most 100 ids and bounds how many are in flight, across
        calls), and each call's answers are written as soon as they are in, while the next
        requests are out. A failed request fails the cycle: what was written stays, the rest is
        not asked (the next cycle asks again, after the backoff). When the cycle ends, its
        writes are done.
        """
        if self._skipper.skip_this_cycle():
            return PollReport(0, 0, 0, 0, 0, 0.0, skipped=True)
        started = time.perf_counter()
        now = self._clock.now()
        account_now = now.astimezone(self._zone)
        if self._replica is None:
            pending = await self._store.read(
                messages.pending_statuses, local_now=account_now, sandbox=self._sandbox
            )
        elif await self._store.read(
            polling.poll_share_would_change,
            replica=self._replica,
            live_cutoff=replicas.lease_cutoff(now, self._lease),
        ):
            pending = await self._store.write(
                polling.claim_pending_statuses,
                replica=self._replica,
                live_cutoff=replicas.lease_cutoff(now, self._lease),
                local_now=account_now,
                sandbox=self._sandbox,
            )
        else:  # every pending SMS has its live poller, this one its share: read, nothing written
            pending = await self._store.read(
                polling.polled_statuses,
                replica=self._replica,
                local_now=account_now,
                sandbox=self._sandbox,
            )
        by_id = {row.message_id: row for row in pending}
        changed = failed = 0
        rate_limited = False
        try:
            changed = await self._ask_and_apply(by_id, now)
        except _AskError as failure:
            changed, failed = failure.changed, 1
            rate_limited = isinstance(failure.error, MobizonRateLimitedError)
            logger.warning("status poll failed", extra={"error": str(failure.error)})
        gave_up = 0
        overdue = await self._store.read(
            messages.overdue, now=now, grace=self._grace, local_now=account_now
        )
        for sms in overdue:
            gave_up += await self._store.write(delivery.give_up, sms.id, now=now) is not None
        self._adjust_backoff(failed=failed > 0, rate_limited=rate_limited)
        if (changed or gave_up) and self._on_change is not None:
            self._on_change()
        report = PollReport(
            asked=len(by_id),
            requests=math.ceil(len(by_id) / MAX_IDS_PER_STATUS_REQUEST),
            changed=changed,
            failed_batches=failed,
            gave_up=gave_up,
            seconds=time.perf_counter() - started,
        )
        if self._on_cycle is not None:
            self._on_cycle(report)
        # last: housekeeping a locked database refuses must not keep the changes above untold
        await self._store.write(
            webhooks.prune_webhook_events, older_than=WEBHOOK_EVENT_MEMORY, now=now
        )
        return report

    async def _ask_and_apply(self, by_id: dict[int, messages.PendingStatus], now: datetime) -> int:
        """Ask about ``by_id`` in chunks, all at once; write each chunk's answers as they come.

        The gateway bounds the requests in flight; the writes go one after another, each in one
        transaction (a status with its outbox row), so at most one is in progress. Raises
        :class:`_AskError` (with what was written) when a request fails.
        """
        ids = list(by_id)
        asks = [
            asyncio.ensure_future(self._gateway.get_sms_status(ids[start : start + CHUNK]))
            for start in range(0, len(ids), CHUNK)
        ]
        changed = 0
        try:
            for answered in asyncio.as_completed(asks):
                try:
                    result = await answered
                except MobizonError as error:
                    raise _AskError(error, changed) from error
                changed += await self._apply(result, by_id, now)
        finally:
            for ask in asks:
                ask.cancel()
            await asyncio.gather(*asks, return_exceptions=True)
        return changed

    async def _apply(
        self,
        result: dict[int, SmsStatus],
        by_id: dict[int, messages.PendingStatus],
        now: datetime,
    ) -> int:
        """Apply one chunk's statuses in one transaction (`delivery.apply_statuses`); count them.

        The statuses read at the start of the cycle go along (``seen``): what moves none of them
        forward is dropped without a write (the steady state of a cycle).
        """
        updates = [status_update(status, "poll") for status in result.values()]
        if not updates:
            return 0
        applied = await self._store.write(
            delivery.apply_statuses, updates, now=now, sandbox=self._sandbox, seen=by_id
        )
        return len(applied)

    def _adjust_backoff(self, *, failed: bool, rate_limited: bool) -> None:
        if not failed:
            self._skipper.succeeded()
            return
        logger.warning(
            "status polling backs off",
            extra={"skip_cycles": self._skipper.failed(), "rate_limited": rate_limited},
        )


class _AskError(Exception):
    """A getSMSStatus request of the cycle failed (``error``); ``changed`` were written before."""

    def __init__(self, error: MobizonError, changed: int) -> None:
        super().__init__(str(error))
        self.error, self.changed = error, changed
