"""Sends whose outcome Mobizon never told us: find out whether they left, and tell the sender.

Two ways a send ends without Mobizon's answer on record:

- **interrupted**: ``/sms send`` claims the send (state ``claimed``) before calling Mobizon and
  records the answer after; a process killed in between leaves the claim behind. Once a
  connection to Mobizon is free for the send, just before its request goes, the claim is marked
  as leaving (``sending_at``): a claim without that mark never left.
- **unknown**: the request left but no answer came back (a timeout, a 5xx, a bug); the sender
  was told it may or may not have gone out.

Each poll cycle, :class:`UnsettledSends` settles them. An interrupted claim that never left is
not looked up: younger than :data:`RESEND_LIMIT` it is sent now, by this process (taken over
first, so only one replica sends it), and its post queued with a note; older, its sender is
told it was not sent. Every other send is looked up in Mobizon's message list (same number,
same text, a message id Mobizon gave out after the bot's last SMS before this one, not already
one of ours):

- exactly one found: the SMS left. It is recorded as sent (taken over first, so only one
  replica adopts it), so delivery tracking takes it from there, and its channel post is queued
  as ``/sms send``'s is, with a note.
- none found, and the send left more than :data:`LISTING_DELAY` ago: it never reached Mobizon.
  An interrupted claim younger than :data:`RESEND_LIMIT` is sent again now, as above. Otherwise
  the sender is told it was not sent (through the command's ``response_url`` while Slack still
  takes it, else a direct message); only once Slack accepted that is it marked failed.
- several found: nothing can be told apart. The sender is told to check, and it is not looked
  up again.

A send of this process, or one it takes over, leaves only once marked as leaving by its holder
(:func:`storage.claims.start_sending`), so a replica held up past its lease does not send a
claim another took over, and a claim taken over as never left cannot have left meanwhile.

A claim is interrupted once the replica that holds it is gone (its heartbeat older than the
lease, :mod:`storage.replicas`); a claim naming no replica, once it is older than this process.
A claim of this process may still be waiting for Mobizon. A claim of this process that Mobizon
took but that could not be recorded (the database stayed locked) is handed over by the send path
(:class:`bot.sms.sending.types.UnrecordedSends`) and recorded each cycle, with Mobizon's message id,
before any lookup. Unknown sends are looked up for a day. A lookup
that fails (Mobizon down) is tried again next cycle; nothing found at Mobizon is sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.mobizon import (
    CampaignStatus,
    ListCriteria,
    MessageItem,
    MobizonError,
    MobizonValidationError,
    SendWithheld,
    SmsGateway,
    Sort,
)
from bot.sms.delivery.settling import CannotTell, NoticeNotDelivered, NotSent, SettlingPosts
from bot.sms.sending.types import UnrecordedSends, asked_sms
from storage import claims, messages, replicas
from storage.outbox import PostNote
from storage.records import SendState, SmsRecord, SmsStateError
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)

#: Mobizon may take a moment to list a message it just took: "not found" waits this long.
LISTING_DELAY = timedelta(minutes=2)
#: How long a send with an unknown outcome is looked up before it is left as it is.
UNKNOWN_WINDOW = timedelta(days=1)
#: An interrupted send younger than this is sent by the process that finds it; an older one is
#: told as not sent (an SMS sent late could do more harm than one not sent).
RESEND_LIMIT = timedelta(minutes=10)
#: Mobizon's list is searched newest first; this many candidates are looked at.
LOOKUP_PAGE_SIZE = 25


class UnsettledSends:
    """Settles the sends whose outcome was never recorded; one instance per process."""

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        posts: SettlingPosts,
        *,
        started_at: datetime | None = None,
        claimed_up_to: int | None = None,
        on_change: Callable[[], None] | None = None,
        unrecorded: UnrecordedSends | None = None,
        on_adopted: Callable[[], None] | None = None,
        replica: str | None = None,
        lease: timedelta = replicas.LEASE,
    ) -> None:
        self._store = store
        # this process among the replicas: claims it holds are its own; another replica's are
        # interrupted once that replica's heartbeat is older than ``lease``
        self._replica, self._lease = replica, lease
        self._unrecorded = unrecorded if unrecorded is not None else UnrecordedSends()
        self._gateway = gateway
        self._posts = posts
        self._started_at = started_at or datetime.now(UTC)
        # the newest row when this process started: every claim up to it is a gone process's
        self._claimed_up_to = claimed_up_to
        self._on_change = on_change or (lambda: None)
        self._on_adopted = on_adopted or (lambda: None)

    async def run_once(self, *, now: datetime | None = None) -> int:
        """Settle every unsettled send that can be settled now; return how many were."""
        moment = now or datetime.now(UTC)
        settled = await self._record_accepted()
        # a claim of another replica is this one's to settle once that replica's lease ran out
        live_cutoff = None if self._replica is None else replicas.lease_cutoff(moment, self._lease)
        unsettled = await self._store.read(
            messages.unsettled_sends,
            claimed_before=self._started_at,
            claimed_up_to=self._claimed_up_to,
            unknown_since=moment - UNKNOWN_WINDOW,
            live_cutoff=live_cutoff,
            replica=self._replica,
        )
        # nothing to look up for a claim that never left: sent side by side, as many at once as
        # the gateway's send lanes take, so a dead replica's queue goes out within its takeover;
        # meanwhile the others are looked up (on the read lane), one after another
        fresh = [sms for sms in unsettled if never_left(sms)]
        done = await asyncio.gather(
            self._look_up_each([sms for sms in unsettled if not never_left(sms)], moment),
            *(self._settle_logged(sms, moment) for sms in fresh),
        )
        return settled + sum(n or 0 for n in done)

    async def _look_up_each(self, unsettled: list[SmsRecord], now: datetime) -> int:
        """Settle sends that may be at Mobizon, in turn; stop when Mobizon is unwell."""
        settled = 0
        for sms in unsettled:
            done = await self._settle_logged(sms, now)
            if done is None:
                return settled  # Mobizon is unwell: the others wait too
            settled += done
        return settled

    async def _settle_logged(self, sms: SmsRecord, now: datetime) -> int | None:
        """Settle ``sms`` (1 when it was); ``None`` when Mobizon could not be asked about it."""
        try:
            return int(await self._settle(sms, now))
        except MobizonError as err:
            logger.warning(
                "could not look up an unsettled send; trying again next cycle",
                extra={"sms_id": sms.id, "error": str(err)},
            )
            return None
        except NoticeNotDelivered as err:
            logger.warning(
                "could not tell the sender about an unsettled send; trying again",
                extra={"sms_id": sms.id, "user": sms.user_id, "error": str(err)},
            )
        except SmsStateError:
            logger.info("unsettled send settled meanwhile", extra={"sms_id": sms.id})
        return 0

    async def _record_accepted(self) -> int:
        """Record the sends Mobizon took whose record failed in this process, posts queued.

        Mobizon's message id is known, so no lookup is needed. Stops at the first write the
        locked database refuses (the rest wait for the next cycle).
        """
        recorded = 0
        for accepted in self._unrecorded.waiting():
            try:
                sms = await self._store.write(
                    claims.record_sent,
                    accepted.sms_id,
                    message_id=accepted.message_id,
                    campaign_id=accepted.campaign_id,
                    campaign_status=accepted.campaign_status,
                    note=PostNote.LATE,
                )
            except Exception as err:
                if is_busy(err):
                    logger.warning(
                        "could not record a sent SMS yet: the database is locked; trying again",
                        extra={"sms_id": accepted.message_id},
                    )
                    return recorded
                logger.exception(
                    "could not record a sent SMS; left unrecorded",
                    extra={"sms_id": accepted.message_id},
                )
                self._unrecorded.discard(accepted.sms_id)
                continue
            self._unrecorded.discard(accepted.sms_id)
            recorded += 1
            logger.info(
                "sent SMS recorded late; tracking it",
                extra={"sms_id": sms.message_id, "channel": sms.channel_id, "user": sms.user_id},
            )
            self._on_change()
        return recorded

    def _ours(self, sms: SmsRecord) -> bool:
        """Whether ``sms`` was claimed by this process (it may still be waiting for Mobizon)."""
        if sms.claimed_by is not None and self._replica is not None:
            return sms.claimed_by == self._replica
        if self._claimed_up_to is not None and sms.id <= self._claimed_up_to:
            return False
        return sms.created_at >= self._started_at

    async def _settle(self, sms: SmsRecord, now: datetime) -> bool:
        if never_left(sms):
            return await self._never_left(sms, now)
        others = await self._store.read(messages.unsettled_like, sms)
        if any(o.state is SendState.CLAIMED and self._ours(o) for o in others):
            # the same SMS is being sent right now (a retry by hand): its message would look
            # like this one's; wait until that send is recorded
            return False
        try:
            found = await self._look_up(sms)
        except MobizonValidationError:
            # Mobizon refuses to search for this one (its text as a criterion): say so, once
            await self._cannot_tell(sms, CannotTell(search_refused=True), now)
            return True
        if len(found) == 1 and not others:
            await self._adopt(sms, found[0])
            return True
        if found:
            await self._cannot_tell(
                sms, CannotTell(at_mobizon=len(found), unanswered=len(others) + 1), now
            )
            return True
        return await self._not_at_mobizon(sms, now)

    async def _never_left(self, sms: SmsRecord, now: datetime) -> bool:
        """Settle a claim whose request never left: sent now, or told as not sent when old.

        Not looked up (Mobizon cannot have it), so nothing waits for Mobizon to list it.
        """
        if now - sms.created_at < RESEND_LIMIT:
            await self._resend(sms, now)
        else:
            await self._tell_not_sent(sms, NotSent.RESTARTED, now, "it never left for Mobizon")
        return True

    async def _not_at_mobizon(self, sms: SmsRecord, now: datetime) -> bool:
        """Settle a send Mobizon does not list: send it (a recent claim), or tell the sender."""
        if now - (sms.sending_at or sms.created_at) < LISTING_DELAY:
            return False  # Mobizon may not list a message this fresh yet: ask again next cycle
        if sms.state is SendState.CLAIMED and now - sms.created_at < RESEND_LIMIT:
            # it never reached Mobizon: the process that claimed it is gone, so this one sends it
            await self._resend(sms, now)
            return True
        why = NotSent.RESTARTED if sms.state is SendState.CLAIMED else NotSent.ANSWER_LOST
        await self._tell_not_sent(sms, why, now, "Mobizon has no record of it")
        return True

    async def _tell_not_sent(self, sms: SmsRecord, why: NotSent, now: datetime, found: str) -> None:
        """Tell the sender the SMS was not sent, then record it failed (``found``: how we know)."""
        await self._posts.tell_not_sent(sms, why, now)
        await self._store.write(
            claims.record_failed, sms.id, error=f"{why.value}; {found}", outcome_unknown=False
        )
        logger.info(
            "unsettled send never reached Mobizon; sender told",
            extra={"sms_id": sms.id, "channel": sms.channel_id, "user": sms.user_id},
        )

    async def _resend(self, sms: SmsRecord, now: datetime) -> None:
        """Send a claim whose process died before Mobizon had it, then record it (post queued).

        Taken first (a conditional update), so of two replicas settling at once one sends it,
        and marked as leaving by this process once its connection is free, so a death of this
        one leaves it known as sent or not. Mobizon refusing it is recorded as failed and the
        sender told, as a send would be.
        """
        if not await self._take_over(sms):
            return  # another replica took it first (or its holder marked it as leaving)
        left = sms.sending_at is not None

        async def leaving() -> bool:
            return await self._store.write(
                claims.start_sending, sms.id, replica=self._replica, again=left, now=now
            )

        try:
            sent = await self._gateway.send_sms(asked_sms(sms), before_request=leaving)
        except SendWithheld:
            logger.info("an interrupted send was settled meanwhile", extra={"sms_id": sms.id})
            return
        except MobizonError as err:
            await self._store.write(
                claims.record_failed,
                sms.id,
                error=str(err),
                outcome_unknown=err.outcome_unknown,
            )
            logger.warning(
                "an interrupted send was sent again and failed",
                extra={"sms_id": sms.id, "outcome_unknown": err.outcome_unknown},
            )
            if not err.outcome_unknown:  # else looked up, then adopted or told
                await self._posts.tell_not_sent(sms, NotSent.REFUSED_ON_RESEND, datetime.now(UTC))
            return
        await self._store.write_retrying(
            claims.record_sent,
            sms.id,
            message_id=sent.message_id,
            campaign_id=sent.campaign_id,
            campaign_status=sent.campaign_status,
            note=PostNote.RESENT,
        )
        logger.info(
            "an interrupted send was sent by this process",
            extra={"sms_id": sent.message_id, "channel": sms.channel_id, "user": sms.user_id},
        )
        self._on_change()
        self._on_adopted()

    async def _take_over(self, sms: SmsRecord) -> bool:
        """Make the send this process's if it is still as read; False when another took it.

        As read: its holder, its state, and whether it was marked as leaving. Without replicas
        (one process) it is this process's once taken from its previous run.
        """
        return await self._store.write(
            claims.take_over,
            sms.id,
            seen=sms.claimed_by,
            replica=self._replica,
            state=sms.state,
            left=sms.sending_at is not None,
        )

    async def _cannot_tell(self, sms: SmsRecord, why: CannotTell, now: datetime) -> None:
        await self._posts.tell_cannot_tell(sms, why, now)
        await self._store.write(
            claims.mark_checked, sms.id, error=f"could not tell whether it was sent: {why}"
        )

    async def _look_up(self, sms: SmsRecord) -> list[MessageItem]:
        page = await self._gateway.list_messages(
            ListCriteria(recipient=sms.recipient, text=sms.text),
            page_size=LOOKUP_PAGE_SIZE,
            sort=Sort("campaignId", descending=True),
        )
        # a message created after this send began has a higher id than any the bot got before
        floor = await self._store.read(messages.last_message_id_before, sms.created_at) or 0
        candidates = [
            item
            for item in page.items
            if item.id > floor and item.recipient == sms.recipient and item.text == sms.text
        ]
        ours = await self._store.read(messages.get_by_message_ids, (item.id for item in candidates))
        return [item for item in candidates if item.id not in ours]

    async def _adopt(self, sms: SmsRecord, item: MessageItem) -> None:
        """Record the send as the SMS found at Mobizon, its post queued with a note.

        Taken first (a conditional update), so of two replicas settling at once one adopts it.
        """
        if not await self._take_over(sms):
            return  # another replica adopted it first
        await self._store.write(
            claims.record_sent,
            sms.id,
            message_id=item.id,
            campaign_id=item.campaign_id or 0,
            campaign_status=CampaignStatus.SENT,
            note=PostNote.RECOVERED,
        )
        logger.info(
            "unsettled send found at Mobizon; tracking it",
            extra={"sms_id": item.id, "channel": sms.channel_id, "user": sms.user_id},
        )
        self._on_change()
        self._on_adopted()  # a send that went out: smsbot_sms_sent_total{outcome="sent"}


def never_left(sms: SmsRecord) -> bool:
    """A claim whose request never left: not marked as leaving (Mobizon cannot have it)."""
    return sms.state is SendState.CLAIMED and sms.sending_at is None
