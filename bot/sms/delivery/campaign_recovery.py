"""Sends to many a dead process left behind: taken over by a live replica, sent once or told.

A campaign is run by the replica that took it (:class:`~bot.sms.sending.campaign_runs.CampaignRun`:
``confirmed`` → ``sending``, Mobizon campaign created, recipients added chunk by chunk, sent).
A process killed on the way leaves it ``confirmed`` or ``sending``. Each step of
:class:`CampaignRecovery` (every few seconds, in every replica) finds the campaigns whose holder is
gone, by the rule of a single send's claim (its heartbeat older than the lease, or its row gone;
:mod:`storage.campaign_takeover`), takes each with a compare-and-set, and settles it:

- **no Mobizon campaign yet**: it is run now, from the start (it was confirmed; nothing left).
- **a Mobizon campaign created**: Mobizon is asked where it stands (``campaign/getinfo``). If its
  sending started (or waits for moderation), ``campaign/send`` left before the process died:
  it is recorded sent, with the SMS its chunks recorded (every chunk was recorded before the
  send was asked). Otherwise it is deleted at Mobizon: it may hold recipients added by a request
  whose answer was never recorded, so it cannot be resumed without risking a second SMS. Its
  recorded SMS rows are marked failed and detached, and the campaign runs again from a new
  Mobizon campaign. Mobizon refusing the delete because sending started (code 10) means it was
  sent. Each recipient so gets one SMS, tracked.
- **confirmed longer ago than** :data:`RESEND_LIMIT` (as a single send's claim): it is not sent
  late. Its Mobizon campaign (if any, and not started) is deleted, its asker told that nothing was
  sent and to send it again (the command's ``response_url`` while Slack takes it, else a direct
  message), and only then is it marked failed.

What cannot be finished now (Mobizon unreachable, the notice not delivered) is handed back to the
holder it was taken from, so the next step, of any replica, tries again.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.mobizon import (
    CampaignInfo,
    CampaignStatus,
    CommonStatus,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
)
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.delivery.settling import NoticeNotDelivered
from bot.sms.delivery.unsettled import RESEND_LIMIT
from bot.sms.sending.campaign_runs import CampaignGateway, CampaignRun
from bot.sms.sending.campaign_types import CampaignNotSent
from storage import campaign_takeover, campaigns, replicas
from storage.campaign_records import CampaignRecord, CampaignState
from storage.store import Store

logger = logging.getLogger(__name__)

#: ``commonStatus`` values of a campaign whose ``campaign/send`` Mobizon took.
_STARTED = frozenset(
    {
        CommonStatus.MODERATION,
        CommonStatus.DECLINED,
        CommonStatus.RUNNING,
        CommonStatus.SENT,
        CommonStatus.DONE,
    }
)
#: Recorded on the SMS of a Mobizon campaign deleted so the campaign could run again.
DETACHED = "smsbot stopped while adding recipients; the campaign was sent again from a new one"
#: Recorded on a campaign not sent because it was confirmed too long ago.
TOO_LATE = "smsbot stopped before sending the campaign, and it was too late to send it"


class CampaignNotSentWhy(enum.Enum):
    """Why a campaign a dead process left was not sent (its value is the log's English)."""

    #: confirmed longer ago than the limit: not sent late
    TOO_LATE = "too late"
    #: run again after the process died, and Mobizon refused it
    REFUSED_ON_RESEND = "refused when sent again"


class CampaignGatewayLookups(CampaignGateway, Protocol):
    """The gateway's campaign methods recovery uses: a run's, and ``campaign/getinfo``."""

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo: ...  # noqa: D102


class CampaignNotices(Protocol):
    """What recovery tells a campaign's asker, through the surface that owns them (Slack)."""

    async def tell_campaign_not_sent(
        self, campaign: CampaignRecord, why: CampaignNotSentWhy, now: datetime
    ) -> None:
        """Tell the asker nothing of the campaign was sent; raises NoticeNotDelivered."""


@dataclass(frozen=True, slots=True)
class _Started:
    """Mobizon started the campaign: its sending status, as ``campaign/send`` answers it."""

    status: int


class CampaignRecovery:
    """Takes over and settles the campaigns of replicas that are gone; one per process."""

    def __init__(
        self,
        store: Store,
        gateway: CampaignGatewayLookups,
        notices: CampaignNotices,
        *,
        replica: str | None,
        lease: timedelta = replicas.LEASE,
        limit: timedelta = RESEND_LIMIT,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._notices = notices
        self._replica = replica
        self._lease = lease
        self._limit = limit
        self._clock = clock
        self._run = CampaignRun(store, gateway, replica=replica, clock=clock)

    async def run_once(self) -> int:
        """Settle every campaign a gone process left that can be settled now; how many were."""
        now = self._clock.now()
        left = await self._store.read(
            campaign_takeover.abandoned_campaigns,
            live_cutoff=replicas.lease_cutoff(now, self._lease),
            idle_before=now - self._lease,
        )
        settled = 0
        for campaign in left:
            try:
                settled += await self._settle(campaign, now)
            except Exception:  # one campaign's trouble must not stop the others
                logger.exception("could not settle a campaign", extra={"campaign": campaign.id})
        return settled

    async def _settle(self, found: CampaignRecord, now: datetime) -> bool:
        """Take ``found`` and settle it; ``False`` when another took it or it must wait."""
        if found.state == CampaignState.CONFIRMED:
            taken = await self._store.write(
                campaigns.take_for_sending, found.id, self._replica, now=now
            )
        else:
            taken = await self._store.write(
                campaign_takeover.take_over_campaign,
                found.id,
                seen=found.claimed_by,
                replica=self._replica,
                now=now,
            )
        if taken is None:
            return False  # another replica took it first
        logger.info(
            "taking over a campaign a stopped process left",
            extra={"campaign": taken.id, "gone": found.claimed_by, "state": found.state},
        )
        try:
            return await self._settle_taken(taken, now)
        except (MobizonError, NoticeNotDelivered) as err:
            logger.warning(
                "could not settle a campaign yet; trying again",
                extra={"campaign": taken.id, "reason": type(err).__name__},
            )
            await self._store.write(
                campaign_takeover.hand_back, taken.id, replica=self._replica, to=found.claimed_by
            )
            return False

    async def _settle_taken(self, taken: CampaignRecord, now: datetime) -> bool:
        if taken.mobizon_id is not None:
            started = await self._where(taken.mobizon_id)
            if started is not None:
                await self._store.write_retrying(
                    campaigns.record_campaign_sent,
                    taken.id,
                    started.status,
                    holder=self._replica,
                    now=now,
                )
                logger.info("a campaign found sent at Mobizon", extra={"campaign": taken.id})
                return True
        if now - _confirmed_at(taken) >= self._limit:
            await self._notices.tell_campaign_not_sent(taken, CampaignNotSentWhy.TOO_LATE, now)
            await self._store.write_retrying(
                campaigns.record_campaign_failed,
                taken.id,
                error=TOO_LATE,
                never_sent=True,
                holder=self._replica,
                now=now,
            )
            logger.info("a campaign left too long was not sent", extra={"campaign": taken.id})
            return True
        fresh = await self._store.write_retrying(
            campaign_takeover.detach_mobizon_campaign,
            taken.id,
            replica=self._replica,
            error=DETACHED,
            now=now,
        )
        if fresh is None:
            return False  # no longer this replica's
        outcome = await self._run.run_taken(fresh)
        logger.info(
            "a campaign a stopped process left was sent again",
            extra={"campaign": taken.id, "outcome": type(outcome).__name__},
        )
        if isinstance(outcome, CampaignNotSent) and not outcome.outcome_unknown:
            try:
                await self._notices.tell_campaign_not_sent(
                    fresh, CampaignNotSentWhy.REFUSED_ON_RESEND, self._clock.now()
                )
            except NoticeNotDelivered as err:  # it is failed already: nothing to try again
                logger.warning(
                    "could not tell the asker a campaign was not sent",
                    extra={"campaign": taken.id, "reason": str(err)},
                )
        return True

    async def _where(self, mobizon_id: int) -> _Started | None:
        """Whether Mobizon started campaign ``mobizon_id``; if not, it is deleted there now.

        Raises :class:`~bot.mobizon.MobizonError` when Mobizon cannot tell (asked again later).
        """
        try:
            info = await self._gateway.get_campaign_info(mobizon_id)
        except MobizonCampaignNotFoundError:
            return None
        if info.is_deleted:
            return None
        if info.common_status in _STARTED or info.start_send_at is not None:
            waiting = info.awaiting_moderation or info.declined
            return _Started(CampaignStatus.AWAITING_MODERATION if waiting else CampaignStatus.SENT)
        try:
            await self._gateway.delete_campaign(mobizon_id)
        except MobizonCampaignNotFoundError:
            return None
        except MobizonCampaignNotDeletableError:
            return _Started(CampaignStatus.SENT)  # its sending started meanwhile
        return None


def _confirmed_at(campaign: CampaignRecord) -> datetime:
    """When the campaign was confirmed (stored when it needed no confirmation)."""
    return datetime.fromisoformat(campaign.confirmed_at or campaign.created_at)
