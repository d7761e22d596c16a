"""The Slack side of taking over sends to many a stopped process left: the asker's notices.

The asker is told through the command's ``response_url`` while Slack takes it, else in a direct
message, in their own language when Slack tells it (:mod:`handlers.languages`). Campaign recovery
(:mod:`bot.sms.delivery.campaign_recovery`) calls it through its ``CampaignNotices`` Protocol; a
notice Slack did not take raises :class:`~bot.sms.delivery.settling.NoticeNotDelivered`.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackClientError

from bot.sms.delivery.campaign_recovery import CampaignNotSentWhy
from bot.sms.delivery.settling import NoticeNotDelivered
from handlers import formats
from handlers.delivery_posts import Asker, AskerNotices, tell_asker
from handlers.i18n import gettext as _
from handlers.i18n import ngettext, use_locale
from handlers.mrkdwn import escape_short
from handlers.posting import error_name
from storage.campaign_records import CampaignRecord

logger = logging.getLogger(__name__)


class SlackCampaignNotices(AskerNotices):
    """The notices of campaign recovery, in Slack."""

    async def tell_campaign_not_sent(
        self, campaign: CampaignRecord, why: CampaignNotSentWhy, now: datetime
    ) -> None:
        """Tell the asker that nothing of the campaign was sent, and to send it again."""
        locale = await self._locale_of(campaign.user_id)
        with use_locale(locale):
            text = not_sent_text(campaign, why)
        try:
            await self._tell(campaign, text, now)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as err:
            raise NoticeNotDelivered(error_name(err)) from err

    async def _tell(self, campaign: CampaignRecord, text: str, now: datetime) -> None:
        asker = Asker(
            campaign.user_id, campaign.response_url, datetime.fromisoformat(campaign.created_at)
        )
        await tell_asker(
            self._slack, self._session, asker, text, now, log_extra={"campaign": campaign.id}
        )


def not_sent_text(campaign: CampaignRecord, why: CampaignNotSentWhy) -> str:
    """The sentence that tells the asker nothing of ``campaign`` was sent, in the active locale."""
    count = campaign.recipients
    if why is CampaignNotSentWhy.TOO_LATE:
        said = ngettext(
            ":warning: Your send to %(count)s number was *not sent*: smsbot stopped before it "
            "went out, and it is now too late to send it. Nothing was sent. Send it again if it "
            "is still needed:",
            ":warning: Your send to %(count)s numbers was *not sent*: smsbot stopped before it "
            "went out, and it is now too late to send it. Nothing was sent. Send it again if it "
            "is still needed:",
            count,
        )
    else:
        said = ngettext(
            ":warning: Your send to %(count)s number was *not sent*: smsbot stopped before it "
            "went out, and Mobizon refused it when smsbot sent it again. Nothing was sent. Send "
            "it again if it is still needed:",
            ":warning: Your send to %(count)s numbers was *not sent*: smsbot stopped before it "
            "went out, and Mobizon refused it when smsbot sent it again. Nothing was sent. Send "
            "it again if it is still needed:",
            count,
        )
    text = said % {"count": formats.number(count)}
    text += "\n> " + escape_short(" ".join(campaign.text.split()), 200)
    if campaign.sandbox:
        text += " " + _("(sandbox)")
    return text
