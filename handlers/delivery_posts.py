"""The Slack side of settling unsettled sends: the sender's notices.

The sender is told through the command's ``response_url`` while Slack takes it, else in a direct
message, in their own language when Slack tells it (:mod:`handlers.languages`). A late or
recovered SMS's channel post is an outbox row like any other (:mod:`handlers.first_posts`).

Delivery tracking (:mod:`bot.sms.delivery.unsettled`) calls it through its ``SettlingPosts``
Protocol; a notice Slack did not take raises
:class:`~bot.sms.delivery.unsettled.NoticeNotDelivered`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sms.delivery.settling import CannotTell, NoticeNotDelivered, NotSent
from handlers import formats
from handlers.i18n import gettext as _
from handlers.i18n import ngettext, use_locale
from handlers.languages import BACKGROUND_WAIT, PeopleLanguages
from handlers.mrkdwn import escape_short
from handlers.phone import format_phone
from handlers.posting import error_name, open_direct_message
from handlers.send_outcomes import find_before_resending
from storage.records import SmsRecord

logger = logging.getLogger(__name__)

#: Slack takes ``response_url`` posts for 30 minutes; leave a margin.
RESPONSE_URL_LIFETIME = timedelta(minutes=25)


class AskerNotices:
    """Notices to the person who asked for a send, in Slack, in their language."""

    def __init__(
        self,
        slack: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        language: str = "en",
        languages: PeopleLanguages | None = None,
    ) -> None:
        self._slack = slack
        self._session = session
        self._language = language  # the workspace's, for an asker whose own is not known
        self._languages = languages

    async def _locale_of(self, user_id: str) -> str:
        """The language ``user_id`` is told in: their own, else the workspace's."""
        if self._languages is None:
            return self._language
        return await self._languages.locale_of(user_id, self._slack, wait=BACKGROUND_WAIT)


class SlackSettlingPosts(AskerNotices):
    """The notices of unsettled-send settling, in Slack."""

    async def _sender_locale(self, sms: SmsRecord) -> str:
        """The language the sender is told in: their own, else the workspace's."""
        return await self._locale_of(sms.user_id)

    async def tell_not_sent(self, sms: SmsRecord, why: NotSent, now: datetime) -> None:
        """Tell the sender the SMS never reached Mobizon."""
        with use_locale(await self._sender_locale(sms)):
            await self._tell_not_sent(sms, why, now)

    async def _tell_not_sent(self, sms: SmsRecord, why: NotSent, now: datetime) -> None:
        reasons = {
            NotSent.RESTARTED: _("smsbot restarted before Mobizon answered"),
            NotSent.ANSWER_LOST: _("Mobizon's answer was lost"),
            NotSent.REFUSED_ON_RESEND: _(
                "smsbot stopped before it reached Mobizon, and Mobizon refused it when smsbot "
                "sent it again"
            ),
        }
        reason = reasons[why]
        await self._tell_sender(
            sms,
            _(
                ":warning: SMS to %(phone)s was *not sent*: %(why)s, and Mobizon has no record of "
                "it. Send it again if it is still needed:\n> %(text)s"
            )
            % {
                "phone": format_phone(sms.recipient),
                "why": reason,
                "text": escape_short(" ".join(sms.text.split()), 200),
            },
            now,
        )

    async def tell_cannot_tell(self, sms: SmsRecord, why: CannotTell, now: datetime) -> None:
        """Tell the sender smsbot cannot find out whether the SMS was sent."""
        with use_locale(await self._sender_locale(sms)):
            await self._tell_cannot_tell(sms, why, now)

    async def _tell_cannot_tell(self, sms: SmsRecord, why: CannotTell, now: datetime) -> None:
        await self._tell_sender(
            sms,
            _(":warning: SMS to %(phone)s: smsbot could not tell whether it was sent: %(why)s.")
            % {"phone": format_phone(sms.recipient), "why": cannot_tell_reason(why)}
            + " "
            + find_before_resending(sms.recipient),
            now,
        )

    async def _tell_sender(self, sms: SmsRecord, text: str, now: datetime) -> None:
        try:
            await self._tell(sms, text, now)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as err:
            raise NoticeNotDelivered(error_name(err)) from err

    async def _tell(self, sms: SmsRecord, text: str, now: datetime) -> None:
        if sms.sandbox:
            text += " " + _("(sandbox)")
        await tell_asker(
            self._slack,
            self._session,
            Asker(sms.user_id, sms.response_url, sms.created_at),
            text,
            now,
            log_extra={"sms_id": sms.id},
        )


def cannot_tell_reason(why: CannotTell) -> str:
    """Why smsbot cannot tell whether an SMS was sent, each count with its own plural."""
    if why.search_refused:
        return _("Mobizon would not search for it")
    at_mobizon = ngettext(
        "Mobizon has %(count)s recent SMS with this number and text",
        "Mobizon has %(count)s recent SMS with this number and text",
        why.at_mobizon,
    ) % {"count": formats.number(why.at_mobizon)}
    unanswered = ngettext(
        "smsbot has %(count)s send of it with no answer recorded",
        "smsbot has %(count)s sends of it with no answer recorded",
        why.unanswered,
    ) % {"count": formats.number(why.unanswered)}
    return _("%(at_mobizon)s, and %(unanswered)s") % {
        "at_mobizon": at_mobizon,
        "unanswered": unanswered,
    }


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asked for a send: their user id, and the send's response_url and when it was made."""

    user_id: str
    response_url: str | None
    asked_at: datetime


async def tell_asker(
    slack: AsyncWebClient,
    session: aiohttp.ClientSession | None,
    asker: Asker,
    text: str,
    now: datetime,
    *,
    log_extra: dict[str, object],
) -> None:
    """Tell the person who asked for a send, through its response_url or by direct message.

    The response_url while Slack takes it, else (or when it refuses) a direct message. Raises
    what Slack's or the connection's failure raised.
    """
    if asker.response_url and now - asker.asked_at < RESPONSE_URL_LIFETIME:
        webhook = AsyncWebhookClient(
            asker.response_url, timeout=10, session=session, retry_handlers=[]
        )
        answer = await webhook.send(text=text, response_type="ephemeral", replace_original=False)
        if answer.status_code < 300:  # noqa: PLR2004  # any 2xx: Slack took it
            return
        logger.info(
            "response_url refused the notice; sending a direct message",
            extra={**log_extra, "status": answer.status_code},
        )
    dm = await open_direct_message(slack, asker.user_id)
    await slack.chat_postMessage(channel=dm, text=text)
