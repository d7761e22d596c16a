"""The campaign service: a send to many prepared, confirmed once by its asker, and run once.

Every surface reads its input into a :class:`~bot.sms.sending.campaign_types.CampaignRequest`
and calls :meth:`CampaignService.prepare`, which checks it, stores the campaign and its
recipients and answers its preview; a campaign that needs confirmation waits for
:meth:`~CampaignService.confirm` (or :meth:`~CampaignService.cancel`) by its asker; a confirmed
one is sent by :meth:`~CampaignService.run` (:mod:`bot.sms.sending.campaign_runs`). The answers
are the values of :mod:`bot.sms.sending.campaign_types`; nothing here words them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.mobizon import format_timestamp
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.sending.campaign_runs import CampaignGateway, CampaignRun
from bot.sms.sending.campaign_types import (
    AlreadyDecided,
    CampaignDuplicate,
    CampaignMissing,
    CampaignNotAllowed,
    CampaignNotSaved,
    CampaignRequest,
    Cancelled,
    Confirmed,
    ConfirmRefusal,
    CostEstimate,
    Expired,
    NoneLeft,
    NotYours,
    Prepared,
    PrepareRefusal,
    Preview,
    RowUnsendable,
    RunOutcome,
)
from bot.sms.sending.recipients import (
    Reading,
    Recipients,
    TooManyRecipients,
    read_csv,
    read_list,
)
from bot.sms.sending.segments import SegmentInfo, TooLongError
from bot.sms.sending.text import ControlCharacterError, check_text
from storage import account, campaign_takeover, campaigns, optouts
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)

#: How long a preview waits for its asker to confirm it.
PREVIEW_TTL = timedelta(minutes=15)
#: A typed list of more recipients than this waits for confirmation (``SMSBOT_CONFIRM_ABOVE``).
CONFIRM_ABOVE = 10
#: The most recipients one campaign may have (``SMSBOT_MAX_RECIPIENTS``).
MAX_RECIPIENTS = 10_000
#: The places a cost estimate is rounded to.
_COST_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class CampaignLimits:
    """When a campaign needs confirmation, how long a preview waits, and how many it may reach."""

    confirm_above: int = CONFIRM_ABOVE
    max_recipients: int = MAX_RECIPIENTS
    preview_ttl: timedelta = PREVIEW_TTL


class CampaignService:
    """Prepares, confirms and runs sends to many, each once per duplicate key.

    ``may_send`` says who may send (as :class:`~bot.sms.sending.service.SendService`'s);
    ``default_region`` reads numbers written without a country code; ``sandbox`` marks the
    campaigns of a sandbox run; ``replica`` names this process on the campaigns it runs.
    """

    def __init__(
        self,
        store: Store,
        gateway: CampaignGateway,
        *,
        default_region: str = "BR",
        may_send: Callable[[str], bool] = lambda _user: True,
        sandbox: bool = False,
        replica: str | None = None,
        limits: CampaignLimits = CampaignLimits(),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._region = default_region
        self._may_send = may_send
        self._sandbox = sandbox
        self._limits = limits
        self._clock = clock
        self._run = CampaignRun(store, gateway, replica=replica, clock=clock)

    @property
    def limits(self) -> CampaignLimits:
        """The limits campaigns are prepared under."""
        return self._limits

    async def prepare(self, request: CampaignRequest) -> Prepared | PrepareRefusal:
        """Check ``request``, store the campaign and its recipients, and answer its preview.

        Refused (nothing stored) when its asker may not send, its recipients cannot be read or
        are too many, none is left, or a recipient's text cannot be sent. Stored ``confirmed``
        when it needs no confirmation (the surface then runs it), else a preview that expires.
        """
        checked = await self._check(request)
        if not isinstance(checked, _Checked):
            return checked
        read = checked.read
        cost = await self._segment_cost()
        needs_confirmation = (
            request.csv is not None or len(read.recipients) > self._limits.confirm_above
        )
        now = self._clock.now()
        expires_at = now + self._limits.preview_ttl if needs_confirmation else None
        new = _new_campaign(
            request, read, checked.counted, sandbox=self._sandbox, expires_at=expires_at
        )
        try:
            record = await self._store.write(campaigns.create_campaign, new, now=now)
            first = None
            if record is None:
                first = await self._store.read(campaigns.campaign_by_trigger, new.trigger_id)
        except Exception as err:
            if not is_busy(err):
                logger.exception("could not store a campaign; nothing sent")
            return _not_saved(err)
        if record is None:
            logger.info("duplicate campaign ignored", extra={"trigger_id": new.trigger_id})
            return CampaignDuplicate(first.id if first is not None else 0)
        logger.info(
            "campaign prepared",
            extra={
                "campaign": record.id,
                "recipients": record.recipients,
                "confirm": needs_confirmation,
            },
        )
        first_recipient = read.recipients[0]
        total = record.segments_total
        return Prepared(
            record.id,
            Preview(
                recipients=record.recipients,
                left_out=read.left_out,
                entries=read.entries,
                segments_min=record.segments_min,
                segments_max=record.segments_max,
                segments_total=total,
                cost=None if cost is None else _estimate(cost, total),
                first_number=first_recipient.number,
                first_text=first_recipient.text,
                source=request.source,
                placeholders=read.placeholders,
                expires_at=expires_at,
                options=request.options,
            ),
            needs_confirmation,
        )

    async def _check(self, request: CampaignRequest) -> _Checked | PrepareRefusal:
        """The request's recipients and their texts' counts, or why it cannot be sent."""
        user = request.origin.user_id
        if not self._may_send(user):
            return CampaignNotAllowed(user)
        try:
            read = await self._recipients(request)
        except Exception as err:  # the opt-out list could not be read: nothing stored
            if not is_busy(err):
                logger.exception("could not read the opt-out list; nothing stored")
            return _not_saved(err)
        if not isinstance(read, Recipients):
            return read
        if not read.recipients:
            return NoneLeft(read.left_out, read.entries)
        counted = _count(read)
        if not isinstance(counted, list):
            return counted
        return _Checked(read, counted)

    async def _segment_cost(self) -> campaigns.SegmentCost | None:
        """What a segment cost lately; ``None`` when unknown or unreadable (no estimate then)."""
        try:
            return await self._store.read(account.recent_segment_cost, sandbox=self._sandbox)
        except Exception:  # an estimate is no reason to refuse
            logger.exception("could not read recent SMS costs; no estimate")
            return None

    async def confirm(
        self, campaign_id: int, user_id: str, *, team_id: str | None = None
    ) -> Confirmed | ConfirmRefusal:
        """Confirm the preview ``campaign_id`` for ``user_id``: once, by its asker, in time.

        ``team_id`` is the clicker's workspace: the asker's user id from another is refused.
        """
        decided = await self._decide(campaigns.confirm_campaign, campaign_id, user_id, team_id)
        if isinstance(decided, campaigns.CampaignRecord):
            logger.info("campaign confirmed", extra={"campaign": campaign_id})
            return Confirmed(decided.id, decided.recipients)
        return decided

    async def cancel(
        self, campaign_id: int, user_id: str, *, team_id: str | None = None
    ) -> Cancelled | ConfirmRefusal:
        """Cancel the preview ``campaign_id`` for ``user_id``, by the rules of :meth:`confirm`."""
        decided = await self._decide(campaigns.cancel_campaign, campaign_id, user_id, team_id)
        if isinstance(decided, campaigns.CampaignRecord):
            logger.info("campaign cancelled", extra={"campaign": campaign_id})
            return Cancelled(decided.id)
        return decided

    async def withdraw(self, campaign_id: int) -> bool:
        """Cancel a confirmed campaign nobody ran yet (its command was never acknowledged).

        So no replica runs it later; ``False`` when it was taken meanwhile or could not be
        recorded (logged).
        """
        try:
            return await self._store.write_retrying(
                campaign_takeover.withdraw_campaign, campaign_id, now=self._clock.now()
            )
        except Exception:
            logger.exception("could not withdraw a campaign", extra={"campaign": campaign_id})
            return False

    async def run(self, campaign_id: int) -> RunOutcome:
        """Send the confirmed campaign ``campaign_id`` through Mobizon, once; never raises."""
        return await self._run.run(campaign_id)

    async def _recipients(self, request: CampaignRequest) -> Reading:
        """The request's recipients, opted-out numbers left out (the list read once)."""
        limit = self._limits.max_recipients
        everyone = await asyncio.to_thread(self._read, request, sys.maxsize, frozenset())
        if not isinstance(everyone, Recipients):
            return everyone
        numbers = [recipient.number for recipient in everyone.recipients]
        opted = await self._store.read(optouts.opted_out_among, numbers)
        if not opted:
            if len(numbers) > limit:
                return TooManyRecipients(everyone.entries, limit)
            return everyone
        return await asyncio.to_thread(self._read, request, limit, frozenset(opted))

    def _read(self, request: CampaignRequest, limit: int, excluded: frozenset[str]) -> Reading:
        """Read the request's list or file (pure; run off the event loop)."""
        if request.csv is not None:
            return read_csv(
                request.csv,
                request.text,
                default_region=self._region,
                limit=limit,
                excluded=excluded,
            )
        return read_list(
            request.typed or "",
            request.text,
            default_region=self._region,
            limit=limit,
            excluded=excluded,
        )

    async def _decide(
        self,
        decide: Callable[..., campaigns.CampaignRecord | campaigns.DecisionRefused],
        campaign_id: int,
        user_id: str,
        team_id: str | None,
    ) -> campaigns.CampaignRecord | ConfirmRefusal:
        try:
            decided = await self._store.write(
                decide, campaign_id, user_id, team_id=team_id, now=self._clock.now()
            )
        except Exception as err:
            if not is_busy(err):
                logger.exception("could not record a campaign's decision")
            return _not_saved(err)
        if isinstance(decided, campaigns.CampaignRecord):
            return decided
        return _refusal(campaign_id, decided)


@dataclass(frozen=True, slots=True)
class _Checked:
    """A request's recipients, each one's text counted (in the same order)."""

    read: Recipients
    counted: list[SegmentInfo]


def _not_saved(err: Exception) -> CampaignNotSaved:
    """The database failed; a locked one is only worth a warning (the person may try again)."""
    busy = is_busy(err)
    if busy:
        logger.warning("the database is locked; a campaign's change was not saved")
    return CampaignNotSaved(busy=busy)


def _count(read: Recipients) -> list[SegmentInfo] | RowUnsendable:
    """Each recipient's text checked and counted, in order; the first that cannot be sent."""
    seen: dict[str, SegmentInfo] = {}
    counted: list[SegmentInfo] = []
    for recipient in read.recipients:
        info = seen.get(recipient.text)
        if info is None:
            try:
                info = seen[recipient.text] = check_text(recipient.text)
            except (ControlCharacterError, TooLongError) as err:
                return RowUnsendable(recipient.row, err)
        counted.append(info)
    return counted


def _new_campaign(
    request: CampaignRequest,
    read: Recipients,
    counted: list[SegmentInfo],
    *,
    sandbox: bool,
    expires_at: datetime | None,
) -> campaigns.NewCampaign:
    """The campaign storage keeps for ``request`` and its recipients."""
    origin, options = request.origin, request.options
    template = bool(read.placeholders)
    return campaigns.NewCampaign(
        trigger_id=origin.duplicate_key,
        team_id=origin.team_id,
        channel_id=origin.channel_id,
        user_id=origin.user_id,
        response_url=origin.response_url,
        text=request.text,
        template=template,
        recipients=[
            campaigns.NewRecipient(
                row=recipient.row,
                number=recipient.number,
                text=recipient.text,
                segments=info.segments,
                values=dict(recipient.values) if template else None,
            )
            for recipient, info in zip(read.recipients, counted, strict=True)
        ],
        left_out=len(read.left_out),
        source=request.source,
        sender=options.sender,
        name=options.name,
        deferred_to=None if options.schedule is None else format_timestamp(options.schedule),
        validity=options.validity,
        flash=options.flash,
        shorten_links=options.shorten_links,
        sandbox=sandbox,
        confirmed=expires_at is None,
        expires_at=expires_at,
    )


def _estimate(cost: campaigns.SegmentCost, segments: int) -> CostEstimate:
    """About what ``segments`` segments cost at ``cost``'s price."""
    per_segment = cost.per_segment.quantize(_COST_PLACES)
    total = (cost.per_segment * segments).quantize(_COST_PLACES)
    return CostEstimate(per_segment, total, cost.currency)


def _refusal(campaign_id: int, refused: campaigns.DecisionRefused) -> ConfirmRefusal:
    """The domain's answer for a decision storage refused."""
    campaign = refused.campaign
    reason = refused.reason
    if campaign is None or reason is campaigns.Refusal.MISSING:
        return CampaignMissing(campaign_id)
    if reason is campaigns.Refusal.NOT_YOURS:
        return NotYours(campaign.user_id)
    if reason is campaigns.Refusal.EXPIRED and campaign.expires_at is not None:
        return Expired(datetime.fromisoformat(campaign.expires_at))
    return AlreadyDecided(campaign.state)
