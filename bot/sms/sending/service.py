"""The one send service: claim → send → record, and an :mod:`outcome <bot.sms.sending.outcomes>`.

Every surface calls it; none talks to the gateway or writes a send's state itself. Recording a
sent SMS queues its channel post in the outbox, which the notifier makes; the surface renders
what the notifier reports of it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from bot.mobizon import MobizonError, OutgoingSms, SendWithheld, SentMessage, SmsGateway
from bot.sms.sending.outcomes import (
    ClaimTakenOver,
    Duplicate,
    NotAllowed,
    NotSaved,
    OptedOut,
    Outcome,
    OutcomeUnknown,
    Refused,
    Sent,
    SentIdReused,
    SentNotRecorded,
    SentRecordedLater,
    UnknownSender,
    Unsendable,
)
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.senders import SenderNames
from bot.sms.sending.text import ControlCharacterError, check_text
from bot.sms.sending.types import AcceptedSend, Origin, UnrecordedSends, new_send
from storage import claims, records
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)

#: Recorded on a claim when smsbot itself failed while sending.
FAILED_WHILE_SENDING = "smsbot failed while sending; the SMS may or may not have been sent"


@dataclasses.dataclass(frozen=True, slots=True)
class Claimed:
    """A send recorded in the database and not sent yet: what :meth:`SendService.deliver` takes."""

    sms: OutgoingSms
    origin: Origin
    record: records.SmsRecord


class SendService:
    """Sends one SMS exactly once per duplicate key and records it (its post queued with it).

    ``may_send`` says who may send; ``sandbox`` marks the claims of a sandbox run; ``on_sent`` is
    told each send Mobizon was asked, as it answered: ``sent``, ``failed``, or ``unknown`` when it
    may or may not have sent it (a send that failed on smsbot's side is not told). ``replica``
    names this process on the claims it makes: another replica takes them over if it dies.
    """

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        unrecorded: UnrecordedSends,
        may_send: Callable[[str], bool] = lambda _user: True,
        sandbox: bool = False,
        senders: SenderNames | None = None,
        on_sent: Callable[[str], None] = lambda _outcome: None,
        replica: str | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._unrecorded = unrecorded
        self._may_send = may_send
        self._sandbox = sandbox
        self._senders = senders
        self._on_sent = on_sent
        self._replica = replica

    def may_send(self, user_id: str) -> bool:
        """True when ``user_id`` may send SMS (the settings' rule, ``Settings.may_send``)."""
        return self._may_send(user_id)

    async def send(self, sms: OutgoingSms, origin: Origin) -> Outcome:
        """Send ``sms`` for ``origin``; never raises for what can go wrong on the way."""
        claimed = await self.claim(sms, origin)
        if not isinstance(claimed, Claimed):
            return claimed
        return await self.deliver(claimed)

    async def claim(self, sms: OutgoingSms, origin: Origin) -> Claimed | Outcome:
        """Check and record the send of ``sms`` (the duplicate key taken); nothing is sent yet.

        A surface that must answer quickly (a slash command's ack) claims first, so a command
        it acknowledged is in the database, then has it :meth:`deliver`ed. Returns the outcome
        instead when the send is refused or cannot be recorded. A number on the opt-out list is
        refused by the claim itself (:func:`storage.claims.claim_send_unless_opted_out`), before
        anything is written.
        """
        if not self.may_send(origin.user_id):
            return NotAllowed(origin.user_id)
        try:
            # surfaces check early for their own field errors; this is the rule every send meets
            info = check_text(sms.text)
        except (ControlCharacterError, TooLongError) as err:
            return Unsendable(sms, err)
        try:
            # on the database's writer thread, the opt-out list read in the claim's transaction;
            # None when the same request came before
            record = await self._store.write(
                claims.claim_send_unless_opted_out,
                new_send(sms, origin, info, sandbox=self._sandbox, claimed_by=self._replica),
            )
        except Exception as err:  # nothing went to Mobizon: the user may simply try again
            busy = is_busy(err)
            if busy:
                logger.warning("could not claim a send: the database is locked; nothing sent")
            else:
                logger.exception("could not claim a send; nothing sent")
            return NotSaved(sms, busy=busy)
        if isinstance(record, claims.OptedOutNumber):
            return OptedOut(sms)
        if record is None:
            logger.info("duplicate send ignored", extra={"trigger_id": origin.duplicate_key})
            return Duplicate(origin.duplicate_key)
        return Claimed(sms, origin, record)

    async def release(self, claimed: Claimed | Outcome) -> None:
        """Forget a claim that will not be delivered (its command was never acknowledged)."""
        if isinstance(claimed, Claimed):
            await self._store.write_retrying(claims.release_claim, claimed.record.id)

    async def deliver(self, claimed: Claimed) -> Outcome:
        """Send a claimed SMS and record Mobizon's answer (its post queued); never raises."""
        sms = claimed.sms
        sender_unchecked = False
        if sms.sender and self._senders is not None:
            known, names = await self._senders.check(sms.sender)
            if known is False:
                # refused before anything left: the claim goes, as if never made
                await self._store.write_retrying(claims.release_claim, claimed.record.id)
                return UnknownSender(sms, names)
            # the names could not be fetched: sent anyway, Mobizon refuses an unknown sender
            sender_unchecked = known is None
        outcome = await self._send(sms, claimed.origin, claimed.record)
        if sender_unchecked and isinstance(outcome, Sent):
            return dataclasses.replace(outcome, sender_unchecked=True)
        return outcome

    async def _send(
        self, sms: OutgoingSms, origin: Origin, claim: records.SmsRecord
    ) -> Outcome:  # one return per outcome
        """Send and record the claimed ``sms``, if the claim is still this process's.

        Once a connection to Mobizon is free for it, the claim is marked as leaving
        (:func:`storage.claims.start_sending`), and only then does the request go: a claim
        another replica took over while this one was held up is not sent from here, and a claim
        this process leaves unmarked (it died first) is known never to have left.
        """
        leaving = _Leaving(self._store, claim.id, self._replica)
        try:
            sent = await self._gateway.send_sms(sms, before_request=leaving.mark)
        except SendWithheld:
            return await self._withheld(sms, claim, leaving.error)
        except MobizonError as err:
            self._on_sent("unknown" if err.outcome_unknown else "failed")
            await self._record_failed(claim, error=str(err), outcome_unknown=err.outcome_unknown)
            logger.warning(
                "send failed", extra={"sms_id": claim.id, "outcome_unknown": err.outcome_unknown}
            )
            if err.outcome_unknown:
                return OutcomeUnknown(sms, error=err)
            return Refused(sms, error=err)
        except Exception:
            # a bug, not Mobizon: the request may have left, so the SMS must not look unsent
            logger.exception("unexpected error while sending", extra={"sms_id": claim.id})
            await self._record_failed(claim, error=FAILED_WHILE_SENDING, outcome_unknown=True)
            return OutcomeUnknown(sms, error=None)
        self._on_sent("sent")
        return await self._record(sms, origin, claim, sent)

    async def _withheld(
        self, sms: OutgoingSms, claim: records.SmsRecord, error: Exception | None
    ) -> Outcome:
        """Nothing was sent: the claim was not this process's any more, or not marked."""
        if error is None:
            logger.warning(
                "a claim was taken over while this replica was held up; not sent from here",
                extra={"sms_id": claim.id, "user": claim.user_id},
            )
            return ClaimTakenOver(sms)
        try:
            # the sender is told to send it again: the claim goes, or it would be sent later too
            await self._store.write_retrying(claims.release_claim, claim.id)
        except Exception:
            # left unmarked: whoever settles it later sends it (or tells it was not sent)
            logger.exception("could not release a claim never sent", extra={"sms_id": claim.id})
        return NotSaved(sms, busy=is_busy(error))

    async def _record(
        self,
        sms: OutgoingSms,
        origin: Origin,
        claim: records.SmsRecord,
        sent: SentMessage,
    ) -> Outcome:
        """Record what Mobizon took, its post queued; the SMS went out whatever happens here."""
        try:
            # tried again while the database is locked
            record = await self._store.write_retrying(
                claims.record_sent,
                claim.id,
                message_id=sent.message_id,
                campaign_id=sent.campaign_id,
                campaign_status=sent.campaign_status,
            )
        except records.MessageIdTakenError as err:
            logger.warning(
                "Mobizon reused a message id smsbot already holds; neither SMS is tracked by it",
                extra={"sms_id": sent.message_id, "earlier_sms": err.holder},
            )
            return SentIdReused(sms, sent.message_id)
        except Exception as err:
            if is_busy(err):
                # still locked: delivery tracking records it as soon as it can, in this process
                self._unrecorded.add(
                    AcceptedSend(claim.id, sent.message_id, sent.campaign_id, sent.campaign_status)
                )
                logger.warning(
                    "could not record a sent SMS yet: the database is locked; recorded later",
                    extra={"sms_id": sent.message_id, "user": claim.user_id},
                )
                return SentRecordedLater(sms, sent.message_id)
            logger.exception(
                "could not record a sent SMS",
                extra={"sms_id": sent.message_id, "user": claim.user_id},
            )
            return SentNotRecorded(sms, sent.message_id)
        logger.info(
            "sms sent",
            extra={
                "sms_id": record.message_id,
                "channel": record.channel_id,
                "surface": origin.surface.value,
            },
        )
        return Sent(record)

    async def _record_failed(
        self, claim: records.SmsRecord, *, error: str, outcome_unknown: bool
    ) -> None:
        """Record that Mobizon refused the send, or may not have taken it; logged when it cannot be.

        A claim left unrecorded is settled at the next start (looked up in Mobizon).
        """
        try:
            await self._store.write_retrying(
                claims.record_failed, claim.id, error=error, outcome_unknown=outcome_unknown
            )
        except Exception:
            logger.exception("could not record a failed send", extra={"sms_id": claim.id})


class _Leaving:
    """A send's mark as leaving, made once its connection is free (the gateway's hook).

    ``error`` is what kept the database from marking it: then nothing is sent either.
    """

    def __init__(self, store: Store, sms_id: int, replica: str | None) -> None:
        self._store, self._sms_id, self._replica = store, sms_id, replica
        self.error: Exception | None = None

    async def mark(self) -> bool:
        """Mark the claim as leaving; False (nothing is sent) when not ours, or not marked."""
        try:
            return await self._store.write(
                claims.start_sending, self._sms_id, replica=self._replica
            )
        except Exception as err:  # the database cannot say it left: it must not leave
            self.error = err
            if is_busy(err):
                logger.warning(
                    "could not mark a send as leaving: the database is locked; nothing sent",
                    extra={"sms_id": self._sms_id},
                )
            else:
                logger.exception(
                    "could not mark a send as leaving; nothing sent", extra={"sms_id": self._sms_id}
                )
            return False
