"""Simulated messages and their delivery lifecycle, computed from the simulator clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from storage.status import DeliveryStatus, is_final

# Seconds after sending starts at which each step happens, at speed 1.0.
_ENQUEUED_AFTER = 0.2
_ACCEPTED_AFTER = 0.8
_FINAL_AFTER = 2.0
# Seconds a campaign spends in moderation at speed 1.0 when moderation is on.
_MODERATION_SECONDS = 1.0

#: Campaign statuses of Mobizon's ``campaign`` module that a single-message campaign passes.
MODERATION = "MODERATION"
READY_FOR_SEND = "READY_FOR_SEND"
AUTO_READY_FOR_SEND = "AUTO_READY_FOR_SEND"
RUNNING = "RUNNING"
SENT = "SENT"
DONE = "DONE"
#: Search-only campaign statuses (``criteria[campaignStatus]``): no campaign has them.
NOT_YET_SENT = "NOT_YET_SENT"
DEFERRED = "DEFERRED"
_NOT_YET_SENT_STATUSES = frozenset({"NEW", MODERATION, READY_FOR_SEND, AUTO_READY_FOR_SEND})


@dataclass(frozen=True, slots=True)
class MessageState:
    """Where one message stands at one moment, as the gateway reports it (whole seconds)."""

    status: str
    start_send_at: datetime | None
    status_updated_at: datetime | None
    campaign_status: str


@dataclass(slots=True)
class SimulatedMessage:
    """One SMS the simulator accepted, with the timeline its status follows.

    ``timeline`` lists ``(status, moment)`` steps in order; before the first step the message
    is ``NEW`` and unsent. It is fixed at send time (the outcome is drawn then) and only
    :meth:`force` rewrites it.
    """

    id: int
    campaign_id: int
    sender: str
    recipient: str
    text: str
    segments: int
    segment_price: Decimal
    groups: str | None
    uuid: str
    country: str | None
    operator: str | None
    name: str | None
    created_at: datetime
    deferred_to: datetime | None
    validity: int | None
    mclass: int | None
    shorten_links: int | None
    moderated_until: datetime | None
    outcome: str
    timeline: tuple[tuple[str, datetime], ...]

    @property
    def final_at(self) -> datetime | None:
        """The moment the message reaches a final status, or ``None`` if it never does."""
        if self.timeline and is_final(self.timeline[-1][0]):
            return self.timeline[-1][1]
        return None

    def state_at(self, now: datetime) -> MessageState:
        """Report the message's status and timestamps as of ``now``."""
        reached = [step for step in self.timeline if step[1] <= now]
        if not reached:
            return MessageState(DeliveryStatus.NEW, None, None, self._waiting_campaign_status(now))
        status, updated_at = reached[-1]
        if is_final(status):
            campaign_status = DONE
        elif status == DeliveryStatus.ENQUEUD:
            campaign_status = RUNNING
        else:
            campaign_status = SENT
        return MessageState(
            status,
            _whole_seconds(reached[0][1]),
            _whole_seconds(updated_at),
            campaign_status,
        )

    def matches_campaign_status(self, wanted: str, now: datetime) -> bool:
        """Apply ``criteria[campaignStatus]``, including the search-only values."""
        state = self.state_at(now)
        if wanted == NOT_YET_SENT:
            return state.campaign_status in _NOT_YET_SENT_STATUSES
        if wanted == DEFERRED:
            return self.deferred_to is not None and state.start_send_at is None
        return state.campaign_status == wanted

    def force(self, status: str, at: datetime) -> None:
        """Pin the message to ``status`` from ``at`` on, keeping the steps it took before."""
        if status == DeliveryStatus.NEW:
            self.timeline = ()
            return
        earlier = tuple(step for step in self.timeline if step[1] < at)
        self.timeline = (*earlier, (status, at))

    def _waiting_campaign_status(self, now: datetime) -> str:
        if self.moderated_until is None:
            return AUTO_READY_FOR_SEND
        return MODERATION if now < self.moderated_until else READY_FOR_SEND


def plan_timeline(
    created_at: datetime,
    *,
    outcome: str,
    speed: float,
    moderated: bool,
    deferred_to: datetime | None,
) -> tuple[datetime | None, tuple[tuple[str, datetime], ...]]:
    """Plan when moderation ends and when each status is reached, ``speed`` times faster.

    Sending starts once moderation is over and the deferred time (if any) has come; then
    ``ENQUEUD`` and ``ACCEPTD`` follow, and the drawn ``outcome``. The operator rejects
    instead of accepting, so ``REJECTD`` comes where ``ACCEPTD`` would have.
    """
    moderated_until = (
        created_at + timedelta(seconds=_MODERATION_SECONDS / speed) if moderated else None
    )
    begin = max(moment for moment in (created_at, moderated_until, deferred_to) if moment)

    def after(seconds: float) -> datetime:
        return begin + timedelta(seconds=seconds / speed)

    steps: tuple[tuple[str, datetime], ...]
    if outcome == DeliveryStatus.REJECTD:
        steps = (
            (DeliveryStatus.ENQUEUD, after(_ENQUEUED_AFTER)),
            (outcome, after(_ACCEPTED_AFTER)),
        )
    else:
        steps = (
            (DeliveryStatus.ENQUEUD, after(_ENQUEUED_AFTER)),
            (DeliveryStatus.ACCEPTD, after(_ACCEPTED_AFTER)),
            (outcome, after(_FINAL_AFTER)),
        )
    return moderated_until, tuple((str(status), moment) for status, moment in steps)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
