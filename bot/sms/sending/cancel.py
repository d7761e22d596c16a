"""Cancelling a scheduled SMS: delete its campaign at Mobizon, record it, wake the notifier.

One cancel at a time asks Mobizon (a claim in the database, across processes); the others wait
for its outcome. What became of a cancel is one of :data:`CancelOutcome`'s values, which each
surface words for people.

A send to many is cancelled by its Mobizon campaign id (the id its channel message shows):
when no SMS has the id as its message id, the send to many of that campaign is cancelled
whole, by the same rules, read from its first SMS (:mod:`storage.campaign_cancels`). Each
value then has ``campaign`` set, and its id is the campaign's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.mobizon import (
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
    SmsGateway,
    parse_timestamp,
)
from bot.sms.clock import SYSTEM_CLOCK, Clock
from storage import account, campaign_cancels, messages
from storage.records import SmsRecord
from storage.store import Store

logger = logging.getLogger(__name__)

#: Mobizon deletes a scheduled campaign only until this long before its time.
CANCEL_LEAD = timedelta(minutes=5)
#: How long a cancel waits for another one already at Mobizon (longer than a Mobizon call).
CANCEL_WAIT = 30.0
#: How often the waiting cancel looks at the SMS again.
CANCEL_POLL = 0.1


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Mobizon deleted the campaign: the SMS is recorded cancelled and its post edited."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class NotOurs:
    """No SMS smsbot sent has this id (or it has no campaign to delete)."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class NotYours:
    """Someone else sent it, and the person asking may not cancel others' SMS."""

    message_id: int
    sender: str
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class AlreadyCancelled:
    """It was cancelled already, by ``by``."""

    message_id: int
    by: str
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class NotScheduled:
    """It was sent at once: nothing is left to cancel."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class AlreadySent:
    """Its time has come (or it is final): it has been sent."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class TooLate:
    """Within :data:`CANCEL_LEAD` of its time (or Mobizon says so): no longer deletable."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class InProgress:
    """Another cancel, by ``holder``, is still at Mobizon after :data:`CANCEL_WAIT`."""

    message_id: int
    holder: str
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class Gone:
    """Mobizon no longer has the campaign."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class DeleteUnknown:
    """Mobizon answered the delete without saying whether it deleted the campaign."""

    message_id: int
    campaign: bool = False


@dataclass(frozen=True, slots=True)
class CancelFailed:
    """Mobizon could not be asked, or refused for another reason: ``error`` says why."""

    message_id: int
    error: MobizonError
    campaign: bool = False


#: Why a cancel is refused before Mobizon is asked.
CancelRefusal = NotOurs | NotYours | AlreadyCancelled | NotScheduled | AlreadySent | TooLate

#: What became of one cancel.
CancelOutcome = Cancelled | CancelRefusal | InProgress | Gone | DeleteUnknown | CancelFailed


def cancel_refusal(  # noqa: PLR0911  # one answer per refusal
    sms: SmsRecord | None,
    message_id: int,
    user_id: str,
    *,
    allowed_users: frozenset[str],
    zone: tzinfo,
    now: datetime,
) -> CancelRefusal | None:
    """Why ``user_id`` may not cancel ``sms`` (message ``message_id``) now, or ``None``.

    ``zone`` is the Mobizon account's, in which the scheduled time was written.
    """
    if sms is None or sms.campaign_id is None:
        return NotOurs(message_id)
    if sms.user_id != user_id and user_id not in allowed_users:
        return NotYours(message_id, sms.user_id)
    if sms.cancelled_by is not None:
        return AlreadyCancelled(message_id, sms.cancelled_by)
    if sms.deferred_to is None:
        return NotScheduled(message_id)
    at = parse_timestamp(sms.deferred_to).replace(tzinfo=zone)
    if sms.is_final or now >= at:
        return AlreadySent(message_id)
    if now >= at - CANCEL_LEAD:
        return TooLate(message_id)
    return None


class CancelService:
    """Cancels scheduled SMS at Mobizon for the people who may.

    ``allowed_users`` may cancel anyone's SMS (others only their own); ``zone`` is the Mobizon
    account's; ``wake_notifier`` is told when a cancel was recorded (its post is to be edited);
    ``clock`` gives the time and the waits.
    """

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        allowed_users: frozenset[str] = frozenset(),
        zone: tzinfo = UTC,
        wake_notifier: Callable[[], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._clock = clock
        self._gateway = gateway
        self._allowed_users = allowed_users
        self._zone = zone
        self._wake_notifier = wake_notifier

    async def cancel(
        self, message_id: int, user_id: str, *, now: datetime | None = None
    ) -> CancelOutcome:
        """Cancel SMS ``message_id`` for ``user_id``: delete its campaign at Mobizon, record it.

        No SMS with that id: the send to many whose Mobizon campaign it is, whole. While another
        cancel holds the claim, its outcome is waited for and told.
        """
        claimed = await self._claimed(message_id, user_id, now=now)
        if not isinstance(claimed, _Claim):
            return claimed
        lead = claimed.sms
        if lead.campaign_id is None or lead.message_id is None:  # pragma: no cover - refused
            return NotOurs(message_id, campaign=claimed.campaign)
        deleted = False
        try:
            outcome = await self._delete(lead.campaign_id, message_id, campaign=claimed.campaign)
            deleted = isinstance(outcome, Cancelled)
            if deleted:
                await self._record(message_id, user_id, campaign=claimed.campaign)
        finally:
            # Mobizon did not cancel it: the next cancel may try. Once deleted, the claim stays
            # (until it expires) even if the record failed, so nobody asks Mobizon again at once.
            if not deleted:
                await self._store.write_retrying(account.release_cancel, lead.message_id, user_id)
        if deleted and self._wake_notifier is not None:
            self._wake_notifier()
        return outcome

    async def _record(self, asked: int, user_id: str, *, campaign: bool) -> None:
        """Record the cancel: the SMS, or every SMS of the send to many, DELETED by ``user_id``."""
        if campaign:
            logger.info("scheduled send to many cancelled", extra={"campaign_id": asked})
            await self._store.write_retrying(
                campaign_cancels.record_campaign_cancelled, asked, user_id, now=self._clock.now()
            )
        else:
            logger.info("scheduled SMS cancelled", extra={"message_id": asked})
            await self._store.write_retrying(
                account.record_cancelled, asked, user_id, now=self._clock.now()
            )

    async def _lookup(self, asked: int) -> _Claim | None:
        """The SMS ``asked`` names, else the first of the send to many it is the campaign of."""
        sms = await self._store.read(messages.get_by_message_id, asked)
        if sms is not None:
            return _Claim(sms, campaign=False)
        lead = await self._store.read(campaign_cancels.campaign_lead, asked)
        return None if lead is None else _Claim(lead, campaign=True)

    async def _claimed(
        self, message_id: int, user_id: str, *, now: datetime | None
    ) -> _Claim | CancelRefusal | InProgress:
        """The SMS once ``user_id`` holds the claim to cancel it; else why not.

        While another cancel holds the claim, its outcome is waited for (up to
        :data:`CANCEL_WAIT`) and the SMS looked at again: cancelled, it is "already cancelled
        by" whoever did.
        """
        give_up_at = self._clock.monotonic() + CANCEL_WAIT
        while True:
            found = await self._lookup(message_id)
            refused = cancel_refusal(
                None if found is None else found.sms,
                message_id,
                user_id,
                allowed_users=self._allowed_users,
                zone=self._zone,
                now=now or self._clock.now(),
            )
            if refused is not None or found is None:
                refused = refused or NotOurs(message_id)
                return dataclasses.replace(refused, campaign=found is not None and found.campaign)
            moment = self._clock.now()
            sms = found.sms
            holder = sms.cancelling_by
            live = sms.cancelling_at is not None and (
                moment - sms.cancelling_at < account.CANCEL_CLAIM_LIFETIME
            )
            if holder is None or not live:
                claim_on = message_id if sms.message_id is None else sms.message_id
                if await self._store.write(account.claim_cancel, claim_on, user_id, now=moment):
                    return found
            elif self._clock.monotonic() >= give_up_at:
                return InProgress(message_id, holder, campaign=found.campaign)
            else:
                await self._clock.sleep(CANCEL_POLL)

    async def _delete(self, campaign_id: int, message_id: int, *, campaign: bool) -> CancelOutcome:
        """Delete the campaign at Mobizon: :class:`Cancelled`, or why it was not."""
        try:
            await self._gateway.delete_campaign(campaign_id)
        except MobizonCampaignNotDeletableError:
            return TooLate(message_id, campaign=campaign)
        except MobizonCampaignNotFoundError:
            return Gone(message_id, campaign=campaign)
        except MobizonCampaignDeleteUnknownError:
            return DeleteUnknown(message_id, campaign=campaign)
        except MobizonError as err:
            return CancelFailed(message_id, err, campaign=campaign)
        return Cancelled(message_id, campaign=campaign)


@dataclass(frozen=True, slots=True)
class _Claim:
    """The SMS a cancel is about, and whether it stands for its whole send to many."""

    sms: SmsRecord
    campaign: bool
