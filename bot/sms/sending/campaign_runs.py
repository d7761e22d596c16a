"""Running a confirmed campaign: one Mobizon campaign, created, filled chunk by chunk, sent.

:class:`CampaignRun` takes the campaign for this replica (a compare-and-set: it runs once),
creates the Mobizon campaign (type 3 when its text has placeholders), adds its recipients one
request after another (at most 500 and 1,000 form fields each), recording each answer as it
comes (an SMS row per recipient added, the code of every row), then sends it. A failure before
Mobizon started sending deletes the Mobizon campaign and marks ours ``failed``; nothing raises.

Each write of a run names this replica and the Mobizon campaign it fills, and ``campaign/send``
is asked only once the database says both still hold: a replica that stalled past its lease
while another took the campaign over stops at its next step, deletes the Mobizon campaign it
never sent, and answers :class:`AlreadyDecided` (the other replica runs it, from its own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.mobizon import (
    AddedRecipient,
    CampaignRecipient,
    CampaignSent,
    MobizonError,
    NewCampaign,
    parse_timestamp,
    recipient_chunks,
)
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.sending.campaign_types import (
    AlreadyDecided,
    CampaignMissing,
    CampaignNotSent,
    CampaignStarted,
    RunOutcome,
)
from bot.sms.sending.placeholders import PlaceholderText
from bot.sms.sending.segments import SegmentInfo, count_segments
from storage import campaigns
from storage.campaign_takeover import NotHeldError
from storage.store import Store

logger = logging.getLogger(__name__)

#: A placeholder name Mobizon reads: Latin letters, digits, ``_`` and ``-``.
_MOBIZON_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
#: Recorded when smsbot itself failed while running a campaign.
FAILED_WHILE_RUNNING = "smsbot failed while sending the campaign"
#: Recorded when Mobizon added none of the recipients (each row keeps its code).
NONE_ADDED = "Mobizon added none of the recipients"


class CampaignGateway(Protocol):
    """The gateway's campaign methods a run uses (:class:`~bot.mobizon.MobizonClient` has them)."""

    async def create_campaign(self, campaign: NewCampaign) -> int: ...  # noqa: D102

    async def add_campaign_recipients(  # noqa: D102
        self, campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> tuple[AddedRecipient, ...]: ...

    async def send_campaign(self, campaign_id: int) -> CampaignSent: ...  # noqa: D102

    async def delete_campaign(self, campaign_id: int) -> None: ...  # noqa: D102


def mobizon_text(text: str) -> tuple[str, dict[str, str]]:
    """``text`` as Mobizon's template reads it, and each placeholder key's name in it.

    Each placeholder is written ``{name}`` with its key (accents, case and spaces folded) when
    Mobizon can read that, else ``{p1}``, ``{p2}``… in order.
    """
    template = PlaceholderText.of(text)
    names = {
        key: key if _MOBIZON_NAME.match(key) else f"p{index}"
        for index, key in enumerate(template.keys, start=1)
    }
    pieces = [
        piece if index % 2 == 0 else "{" + names[piece] + "}"
        for index, piece in enumerate(template.pieces)
    ]
    return "".join(pieces), names


class CampaignRun:
    """Runs confirmed campaigns, each once, as replica ``replica``."""

    def __init__(
        self,
        store: Store,
        gateway: CampaignGateway,
        *,
        replica: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._replica = replica
        self._clock = clock

    async def run(self, campaign_id: int) -> RunOutcome:
        """Send campaign ``campaign_id`` if it is confirmed and nobody took it; never raises."""
        try:
            taken = await self._store.write_retrying(
                campaigns.take_for_sending, campaign_id, self._replica, now=self._clock.now()
            )
            if taken is None:
                current = await self._store.read(campaigns.get_campaign, campaign_id)
                if current is None:
                    return CampaignMissing(campaign_id)
                return AlreadyDecided(current.state)
        except Exception:
            logger.exception("could not take a campaign to send", extra={"campaign": campaign_id})
            return CampaignNotSent(campaign_id, error=None)
        return await self.run_taken(taken)

    async def run_taken(self, taken: campaigns.CampaignRecord) -> RunOutcome:
        """Send ``taken``, a ``sending`` campaign this replica holds with no Mobizon campaign.

        What :meth:`run` does once it took the campaign; a replica that took over a campaign a
        dead one left (:mod:`bot.sms.delivery.campaign_recovery`) runs it so. Never raises.
        """
        attempt = _Attempt(taken)
        try:
            return await self._send(attempt)
        except NotHeldError:
            return await self._lost(attempt)
        except Exception:
            logger.exception(
                "unexpected error while sending a campaign", extra={"campaign": taken.id}
            )
            await self._failed(attempt, FAILED_WHILE_RUNNING, never_sent=not attempt.send_asked)
            return CampaignNotSent(taken.id, error=None, outcome_unknown=attempt.send_asked)

    async def _send(self, attempt: _Attempt) -> RunOutcome:
        campaign = attempt.campaign
        text, names = mobizon_text(campaign.text) if campaign.template else (campaign.text, {})
        order = NewCampaign(
            text=text,
            template=campaign.template,
            sender=campaign.sender,
            schedule=None
            if campaign.deferred_to is None
            else parse_timestamp(campaign.deferred_to),
            validity=campaign.validity,
            flash=campaign.flash,
            name=campaign.name,
            shorten_links=campaign.shorten_links,
        )
        try:
            attempt.mobizon_id = await self._gateway.create_campaign(order)
        except MobizonError as err:
            return await self._refused(attempt, err)
        await self._holding(campaigns.record_mobizon_id, campaign.id, attempt.mobizon_id)
        stored = await self._store.read(campaigns.campaign_recipients_of, campaign.id)
        failure = await self._add(attempt, stored, names)
        if failure is not None:
            return await self._refused(attempt, failure)
        if not attempt.added:
            logger.warning(
                "Mobizon added none of a campaign's recipients", extra={"campaign": campaign.id}
            )
            await self._delete(attempt)
            await self._failed(attempt, NONE_ADDED, never_sent=True)
            return CampaignNotSent(campaign.id, error=None, refused=tuple(attempt.refused))
        await self._holding(campaigns.still_running, campaign.id, attempt.mobizon_id)
        attempt.send_asked = True
        try:
            sent = await self._gateway.send_campaign(attempt.mobizon_id)
        except MobizonError as err:
            if err.outcome_unknown:
                logger.warning(
                    "a campaign's send may or may not have started", extra={"campaign": campaign.id}
                )
                await self._failed(attempt, str(err), never_sent=False)
                return CampaignNotSent(campaign.id, error=err, outcome_unknown=True)
            return await self._refused(attempt, err)
        await self._store.write_retrying(
            campaigns.record_campaign_sent,
            campaign.id,
            sent.status,
            holder=self._replica,
            now=self._clock.now(),
        )
        logger.info(
            "campaign sent",
            extra={
                "campaign": campaign.id,
                "added": attempt.added,
                "refused": len(attempt.refused),
            },
        )
        return CampaignStarted(
            campaign.id,
            attempt.mobizon_id,
            attempt.added,
            tuple(attempt.refused),
            sent.awaiting_moderation,
        )

    async def _add(
        self,
        attempt: _Attempt,
        stored: list[campaigns.CampaignRecipientRow],
        names: dict[str, str],
    ) -> MobizonError | None:
        """Add every recipient, a request at a time, each answer recorded as it comes."""
        template = attempt.campaign.template
        offered = [
            CampaignRecipient(
                row.number, {names[key]: value for key, value in row.values.items() if key in names}
            )
            for row in stored
        ]
        by_number = {row.number: row for row in stored}
        counts: dict[str, SegmentInfo] = {}
        start = 0
        for chunk in recipient_chunks(offered, template=template):
            rows = stored[start : start + len(chunk)]
            start += len(chunk)
            try:
                answer = await self._gateway.add_campaign_recipients(
                    attempt.mobizon_id or 0, chunk, template=template
                )
            except MobizonError as err:
                return err
            recorded = []
            for index, added in enumerate(answer):
                key = added.number or added.recipient
                row = by_number.get(key or "")
                if row is None and len(answer) == len(rows):
                    row = rows[index]
                if row is None:
                    continue
                info = counts.get(row.text) or counts.setdefault(row.text, count_segments(row.text))
                recorded.append(
                    campaigns.ChunkRow(
                        row.row,
                        added.code,
                        added.message_id if added.added else None,
                        info.encoding,
                        info.length,
                    )
                )
                if added.added:
                    attempt.added += 1
                else:
                    attempt.refused.append(added)
            await self._store.write_retrying(
                campaigns.record_chunk,
                attempt.campaign.id,
                recorded,
                holder=self._replica,
                mobizon_id=attempt.mobizon_id,
                now=self._clock.now(),
            )
        return None

    async def _holding(self, write: Callable[..., bool], campaign_id: int, mobizon_id: int) -> None:
        """``write`` as this replica, the holder; :class:`NotHeldError` when it holds no longer."""
        if not await self._store.write_retrying(
            write, campaign_id, mobizon_id, holder=self._replica, now=self._clock.now()
        ):
            raise NotHeldError(campaign_id)

    async def _lost(self, attempt: _Attempt) -> RunOutcome:
        """Another replica took the campaign over while this one filled Mobizon's: stop, unsent.

        This replica stalled past its lease (a pause, or the database out of its reach) and the
        other runs the campaign now, from a Mobizon campaign of its own: the one made here was
        never sent, and is deleted so it never is.
        """
        logger.warning(
            "another replica took over a campaign this one was running; its Mobizon campaign,"
            " never sent, is deleted",
            extra={"campaign": attempt.campaign.id},
        )
        if not attempt.send_asked:
            await self._delete(attempt)
        try:
            current = await self._store.read(campaigns.get_campaign, attempt.campaign.id)
        except Exception:  # noqa: BLE001  # the answer only names its state
            current = None
        state = current.state if current is not None else attempt.campaign.state
        return AlreadyDecided(state, taken_over=True)

    async def _refused(self, attempt: _Attempt, err: MobizonError) -> CampaignNotSent:
        """Mobizon refused a step before sending: its campaign deleted, ours failed."""
        logger.warning(
            "Mobizon refused a campaign; nothing sent",
            extra={"campaign": attempt.campaign.id, "reason": type(err).__name__},
        )
        await self._delete(attempt)
        await self._failed(attempt, str(err), never_sent=True)
        return CampaignNotSent(attempt.campaign.id, error=err)

    async def _delete(self, attempt: _Attempt) -> None:
        """Delete the Mobizon campaign, if one was made, so it is never sent; logged if not."""
        if attempt.mobizon_id is None:
            return
        try:
            await self._gateway.delete_campaign(attempt.mobizon_id)
        except MobizonError as err:
            logger.warning(
                "could not delete a Mobizon campaign never sent",
                extra={"campaign": attempt.campaign.id, "reason": type(err).__name__},
            )

    async def _failed(self, attempt: _Attempt, error: str, *, never_sent: bool) -> None:
        try:
            await self._store.write_retrying(
                campaigns.record_campaign_failed,
                attempt.campaign.id,
                error=error,
                never_sent=never_sent,
                holder=self._replica,
                now=self._clock.now(),
            )
        except Exception:
            logger.exception(
                "could not record a failed campaign", extra={"campaign": attempt.campaign.id}
            )


class _Attempt:
    """What one run learned so far: the Mobizon campaign, who was added, whether it was sent."""

    def __init__(self, campaign: campaigns.CampaignRecord) -> None:
        self.campaign = campaign
        self.mobizon_id: int | None = None
        self.added = 0
        self.refused: list[AddedRecipient] = []
        self.send_asked = False
