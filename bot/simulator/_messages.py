"""Simulated messages and their delivery lifecycle, computed from the simulator clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.mobizon import FINAL_MESSAGE_STATUSES, CommonStatus, MessageStatus, ModerationStatus

# Seconds after sending starts at which each step happens, at speed 1.0.
_ENQUEUED_AFTER = 0.2
_ACCEPTED_AFTER = 0.8
_FINAL_AFTER = 2.0
# Seconds a campaign spends in moderation at speed 1.0 when moderation is on.
_MODERATION_SECONDS = 1.0

#: Campaign statuses of Mobizon's ``campaign`` module that a single-message campaign passes.
MODERATION = ModerationStatus.MODERATION.value
DECLINED = ModerationStatus.DECLINED.value
READY_FOR_SEND = ModerationStatus.READY_FOR_SEND.value
AUTO_READY_FOR_SEND = ModerationStatus.AUTO_READY_FOR_SEND.value
RUNNING = CommonStatus.RUNNING.value
SENT = CommonStatus.SENT.value
DONE = CommonStatus.DONE.value
#: Search-only campaign statuses (``criteria[campaignStatus]``): no campaign has them.
NOT_YET_SENT = "NOT_YET_SENT"
DEFERRED = "DEFERRED"
_NOT_YET_SENT_STATUSES = frozenset(
    {MessageStatus.NEW.value, MODERATION, READY_FOR_SEND, AUTO_READY_FOR_SEND}
)


def is_final(status: str) -> bool:
    """True when Mobizon never changes a message's ``status`` again."""
    return status in FINAL_MESSAGE_STATUSES


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
    #: The campaign went to moderation (sendSmsMessage answered ``status`` 1). With
    #: ``moderated_until`` unset it waits for :meth:`decide`.
    moderation: bool = False
    #: The moderator's verdict, in force from ``moderated_until`` on.
    declined: bool = False
    #: The moderator's comment (``globalComment``), shown once declined.
    global_comment: str | None = None
    #: When ``campaign/delete`` deleted the campaign; it never goes out then.
    deleted_at: datetime | None = None
    #: The speed the lifecycle runs at (kept to plan it when a moderator approves).
    speed: float = 1.0

    @property
    def cost(self) -> Decimal:
        """What the message costs: its segments at its segment price."""
        return self.segment_price * self.segments

    def moderation_pending(self, now: datetime) -> bool:
        """True while the campaign waits for a moderator's verdict."""
        return self.moderation and (self.moderated_until is None or now < self.moderated_until)

    def declined_at(self, now: datetime) -> bool:
        """True when the campaign has been declined by ``now``."""
        return self.declined and self.moderation and not self.moderation_pending(now)

    def moderation_status_at(self, now: datetime) -> str:
        """``moderationStatus`` of campaign/getInfo as of ``now``."""
        if not self.moderation:
            return AUTO_READY_FOR_SEND
        if self.moderation_pending(now):
            return MODERATION
        return DECLINED if self.declined else READY_FOR_SEND

    def decide(self, *, approve: bool, comment: str | None, at: datetime) -> None:
        """Record a moderator's verdict at ``at``: approved campaigns go out, declined never do."""
        self.moderated_until = at
        self.declined = not approve
        self.global_comment = comment
        if approve:
            begin = max(moment for moment in (at, self.deferred_to) if moment)
            self.timeline = _steps(begin, self.outcome, self.speed)
        else:
            self.timeline = ()

    def delete(self, at: datetime) -> None:
        """Delete the campaign at ``at``: its message stays NEW and never goes out."""
        self.deleted_at = at
        self.timeline = ()

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
            return MessageState(MessageStatus.NEW, None, None, self._waiting_campaign_status(now))
        status, updated_at = reached[-1]
        if is_final(status):
            campaign_status = DONE
        elif status == MessageStatus.ENQUEUD:
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
        if status == MessageStatus.NEW:
            self.timeline = ()
            return
        earlier = tuple(step for step in self.timeline if step[1] < at)
        self.timeline = (*earlier, (status, at))

    def _waiting_campaign_status(self, now: datetime) -> str:
        return self.moderation_status_at(now)


def plan_timeline(
    created_at: datetime,
    *,
    outcome: str,
    speed: float,
    moderated: bool,
    deferred_to: datetime | None,
    moderation_seconds: float | None = _MODERATION_SECONDS,
    declined: bool = False,
) -> tuple[datetime | None, tuple[tuple[str, datetime], ...]]:
    """Plan when moderation ends and when each status is reached, ``speed`` times faster.

    Sending starts once moderation is over and the deferred time (if any) has come; then
    ``ENQUEUD`` and ``ACCEPTD`` follow, and the drawn ``outcome``. The operator rejects
    instead of accepting, so ``REJECTD`` comes where ``ACCEPTD`` would have. Moderation
    takes ``moderation_seconds`` (at speed 1; ``None``: until a moderator decides, so no
    step is planned); a ``declined`` campaign never goes out.
    """
    if moderated and moderation_seconds is None:
        return None, ()
    moderated_until = (
        created_at + timedelta(seconds=(moderation_seconds or 0.0) / speed) if moderated else None
    )
    if moderated and declined:
        return moderated_until, ()
    begin = max(moment for moment in (created_at, moderated_until, deferred_to) if moment)
    return moderated_until, _steps(begin, outcome, speed)


def _steps(begin: datetime, outcome: str, speed: float) -> tuple[tuple[str, datetime], ...]:
    """The statuses a message goes through once sending starts at ``begin``."""

    def after(seconds: float) -> datetime:
        return begin + timedelta(seconds=seconds / speed)

    steps: tuple[tuple[str, datetime], ...]
    if outcome == MessageStatus.REJECTD:
        steps = (
            (MessageStatus.ENQUEUD, after(_ENQUEUED_AFTER)),
            (outcome, after(_ACCEPTED_AFTER)),
        )
    else:
        steps = (
            (MessageStatus.ENQUEUD, after(_ENQUEUED_AFTER)),
            (MessageStatus.ACCEPTD, after(_ACCEPTED_AFTER)),
            (outcome, after(_FINAL_AFTER)),
        )
    return tuple((str(status), moment) for status, moment in steps)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
