"""Sends a crash cut short: learn from Mobizon whether they left, and tell the sender.

``/sms send`` claims the send (state ``claimed``) before calling Mobizon and records the answer
after. A process killed in between leaves the claim behind with nobody told. Each poll cycle,
:class:`InterruptedSends` takes the claims that cannot be in flight any more and looks each SMS
up in Mobizon's message list (same number, same text, not already one of ours):

- found: the SMS left. It is recorded as sent, so delivery tracking takes it from there, and its
  message is posted in the channel as ``/sms send`` would have.
- not found: it never reached Mobizon. The sender is told it was not sent (through the
  command's ``response_url`` while Slack still takes it, else a direct message), and only once
  Slack accepted that is the claim marked failed, so the outcome is never lost.

"Not found" is concluded only for a claim older than :data:`IN_FLIGHT_LIMIT`, so Mobizon has had
time to list it. A claim whose lookup fails (Mobizon down) is tried again next cycle; nothing is
ever re-sent. (One process per database is assumed: a claim older than the process is orphaned.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlite_utils import Database

from bot.mobizon.errors import MobizonError
from bot.mobizon.types import CampaignStatus, ListCriteria, MessageItem, Sort
from handlers import blocks
from handlers.context import SmsGateway
from handlers.grammar import escape_slack
from handlers.phone import format_phone
from storage import messages
from storage.messages import SmsRecord

logger = logging.getLogger(__name__)

#: Longer than any send lasts (timeouts and retries included): a claim of this process older
#: than this is orphaned, and Mobizon has had time to list a message that did leave.
IN_FLIGHT_LIMIT = timedelta(minutes=2)
#: Slack takes ``response_url`` posts for 30 minutes; leave a margin.
RESPONSE_URL_LIFETIME = timedelta(minutes=25)
#: Mobizon's list is searched newest first; this many candidates are looked at.
LOOKUP_PAGE_SIZE = 25

RECOVERED_NOTE = (
    ":arrows_counterclockwise: smsbot restarted before Mobizon's answer was recorded; "
    "Mobizon has this SMS, so it is tracked as usual."
)


class InterruptedSends:
    """Settles the claims that a crash left behind; one instance per process."""

    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        slack: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        started_at: datetime | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._slack = slack
        self._session = session
        self._started_at = started_at or datetime.now(UTC)
        self._on_change = on_change or (lambda: None)

    def cutoff(self, now: datetime) -> datetime:
        """Claims created before this moment are not in flight: older than the process or stale."""
        return max(self._started_at, now - IN_FLIGHT_LIMIT)

    async def run_once(self, *, now: datetime | None = None) -> int:
        """Settle every orphaned claim that can be settled now; return how many were."""
        moment = now or datetime.now(UTC)
        settled = 0
        for sms in messages.interrupted_claims(self._db, before=self.cutoff(moment)):
            try:
                if await self._settle(sms, moment):
                    settled += 1
            except MobizonError as err:
                logger.warning(
                    "could not look up an interrupted send; trying again next cycle",
                    extra={"sms_id": sms.id, "error": str(err)},
                )
                return settled  # Mobizon is unwell: the other claims wait too
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as err:
                logger.warning(
                    "could not tell the sender about an interrupted send; trying again",
                    extra={"sms_id": sms.id, "user": sms.user_id, "error": _slack_error(err)},
                )
        return settled

    async def _settle(self, sms: SmsRecord, now: datetime) -> bool:
        found = await self._look_up(sms)
        if found is not None:
            recorded = messages.record_sent(
                self._db,
                sms.id,
                message_id=found.id,
                campaign_id=found.campaign_id or 0,
                campaign_status=CampaignStatus.SENT,
            )
            logger.info(
                "interrupted send found at Mobizon; tracking it",
                extra={"sms_id": found.id, "channel": sms.channel_id, "user": sms.user_id},
            )
            self._on_change()
            await self._post_channel_message(recorded)
            return True
        if now - sms.created_at < IN_FLIGHT_LIMIT:
            return False  # Mobizon may not list a message this fresh yet: ask again next cycle
        text = (
            f":warning: SMS to {format_phone(sms.recipient)} was *not sent*: smsbot restarted "
            "before Mobizon answered, and Mobizon has no record of it. Send it again if it is "
            f"still needed:\n> {escape_slack(_preview(sms.text))}"
        )
        await self._tell_sender(sms, text, now)
        messages.record_failed(
            self._db,
            sms.id,
            error="smsbot restarted before Mobizon answered; Mobizon has no record of this SMS",
            outcome_unknown=False,
        )
        logger.info(
            "interrupted send never reached Mobizon; sender told",
            extra={"sms_id": sms.id, "channel": sms.channel_id, "user": sms.user_id},
        )
        return True

    async def _look_up(self, sms: SmsRecord) -> MessageItem | None:
        page = await self._gateway.list_messages(
            ListCriteria(recipient=sms.recipient, text=sms.text),
            page_size=LOOKUP_PAGE_SIZE,
            sort=Sort("campaignId", descending=True),
        )
        # Mobizon matches text exactly; check anyway, and never adopt an SMS another row owns
        candidates = [
            item for item in page.items if item.recipient == sms.recipient and item.text == sms.text
        ]
        ours = messages.get_by_message_ids(self._db, (item.id for item in candidates))
        fresh = [item for item in candidates if item.id not in ours]
        return fresh[0] if fresh else None

    async def _post_channel_message(self, sms: SmsRecord) -> None:
        message = blocks.sms_message(sms)
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": RECOVERED_NOTE}]}
        try:
            response = await self._slack.chat_postMessage(
                channel=sms.channel_id, text=message.text, blocks=[*message.blocks, note]
            )
        except SlackApiError as err:
            # the notifier sends this SMS's updates to the sender directly when no message exists
            logger.warning(
                "could not post the recovered SMS's message",
                extra={
                    "sms_id": sms.message_id,
                    "channel": sms.channel_id,
                    "error": _slack_error(err),
                },
            )
            return
        ts = response.get("ts")
        if isinstance(ts, str):
            channel = response.get("channel") or sms.channel_id
            messages.set_slack_message(self._db, sms.id, channel=str(channel), ts=ts)

    async def _tell_sender(self, sms: SmsRecord, text: str, now: datetime) -> None:
        if sms.response_url and now - sms.created_at < RESPONSE_URL_LIFETIME:
            async with self._session.post(
                sms.response_url,
                json={"text": text, "response_type": "ephemeral", "replace_original": False},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if response.status < 300:  # noqa: PLR2004  # any 2xx: Slack took it
                    return
                logger.info(
                    "response_url refused the notice; sending a direct message",
                    extra={"sms_id": sms.id, "status": response.status},
                )
        opened = await self._slack.conversations_open(users=sms.user_id)
        channel = opened.get("channel")
        dm = channel.get("id") if isinstance(channel, dict) else None
        await self._slack.chat_postMessage(
            channel=dm if isinstance(dm, str) else sms.user_id, text=text
        )


def _preview(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _slack_error(err: Exception) -> str:
    if isinstance(err, SlackApiError):
        return str(err.response.get("error", "unknown"))
    return type(err).__name__
