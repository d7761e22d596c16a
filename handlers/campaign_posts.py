"""The campaign reporter: a send to many's one channel message, its edits and its summary.

A campaign's SMS get no post of their own: a change to one sets its campaign's ``changed_at``
(:mod:`storage.campaign_reports`). Every step (:meth:`CampaignReporter.report_due`, a scheduler
job every second) reads the campaigns whose message is due, takes each with a compare-and-set on
its ``reported_at`` (so across replicas one edit an interval, :data:`EDIT_INTERVAL`), and posts
the message (``chat.postMessage``) or edits it (``chat.update``) with its counts. Once the
campaign is sent and every SMS of it final, one thread reply sums it up, with the recipients it
did not reach as a CSV file in the thread when there are more than :data:`CSV_ABOVE`
(``files_upload_v2``). Later changes (a cost Mobizon states afterwards) edit both.

What Slack took is recorded as soon as it answers. A refusal gives the claim back, so the next
step tries again (later and later while Slack keeps refusing); a post whose answer was lost is
looked for by its message metadata before it is made again, so nothing is posted twice. Its
posts are in the workspace language, like every channel post of the notifier's. No number nor
text is logged: a campaign is named by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.clock import Clock, SystemClock
from handlers.blocks import SlackMessage
from handlers.campaign_blocks import campaign_message, summary_reply, unreached_csv
from handlers.i18n import gettext as _
from handlers.i18n import use_locale
from handlers.notifier_earlier import earlier_posts
from handlers.posting import error_name, slack_error
from handlers.slack_failures import HTTP_TOO_MANY_REQUESTS, retry_after, transient
from storage import campaign_files, campaign_reports
from storage.campaign_reports import CampaignReport
from storage.store import Store

logger = logging.getLogger(__name__)

#: Shortest time between two edits of one campaign's message, across every replica.
EDIT_INTERVAL = timedelta(seconds=5)
#: How often the reporter looks for due messages.
STEP_SECONDS = 1.0
#: More unreached recipients than this, and the summary comes with them as a CSV file.
CSV_ABOVE = 5
#: The message metadata of the campaign's message and of its summary, so a restart finds them.
MESSAGE_EVENT = "smsbot_campaign"
SUMMARY_EVENT = "smsbot_campaign_summary"
#: Longest wait before trying a campaign Slack keeps refusing again, in seconds.
MAX_HOLD = 300.0
#: Slack errors after which joining the (public) channel may let the post through.
_JOINABLE = frozenset({"not_in_channel", "channel_not_found"})

_SlackCall = Callable[[], Awaitable[Any]]


class CampaignReporter:
    """Posts and edits each campaign's one message; one instance per process.

    ``interval`` is the shortest time between two edits of a message (:data:`EDIT_INTERVAL`),
    ``language`` the workspace's: every channel post is in it.
    """

    def __init__(
        self,
        store: Store,
        slack: AsyncWebClient,
        *,
        language: str = "en",
        interval: timedelta = EDIT_INTERVAL,
        clock: Clock | None = None,
        batch: int = 100,
    ) -> None:
        self._store = store
        self._slack = slack
        self._language = language
        self._interval = interval
        self._clock: Clock = clock or SystemClock()
        self._batch = batch
        #: campaigns Slack refused lately: how many times in a row, and not before when
        self._refused: dict[int, tuple[int, datetime]] = {}
        #: channels Slack asked to wait (429), until when
        self._held: dict[str, datetime] = {}
        #: what each campaign's message showed when Slack last took it, until its summary is
        #: posted: a step that would show the same (its summary refused) does not edit it again
        self._shown: dict[int, SlackMessage] = {}

    async def report_due(self, now: datetime | None = None) -> int:
        """Post or edit every campaign message due at ``now``; return how many Slack took."""
        now = now or self._clock.now()
        for owed in await self._store.write(campaign_files.take_owed_csvs, now=now):
            await self._upload(owed, now)
        due = await self._store.read(
            campaign_reports.due_reports, now=now, interval=self._interval, limit=self._batch
        )
        done = 0
        for one in due:
            refused = self._refused.get(one.id)
            if refused is not None and refused[1] > now:
                continue
            report = await self._store.write(
                campaign_reports.claim_report, one, now=now, interval=self._interval
            )
            if report is None:
                continue  # another replica took it
            if self._held_channel(report, now):
                await self._store.write(campaign_reports.release_report, report)
                continue
            with use_locale(self._language):
                done += await self._report(report, now)
        return done

    def _held_channel(self, report: CampaignReport, now: datetime) -> bool:
        until = self._held.get(report.slack_channel or report.channel_id)
        return until is not None and until > now

    async def _report(self, report: CampaignReport, now: datetime) -> bool:
        """One campaign's step: its message, then its summary when owed. True when Slack took it."""
        try:
            channel, ts = await self._message(report)
            if report.finished:
                await self._summary(report, channel, ts, now)
        except SlackApiError as err:
            await self._refused_now(report, now, slack_error(err), err)
            return False
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as err:
            # no answer: it may have reached Slack; the claim stays, and the next step looks
            # for the post by its metadata before making it again
            logger.warning(
                "slack did not answer about a campaign's message; tried again later",
                extra={"campaign": report.id, "error": error_name(err)},
            )
            return False
        self._refused.pop(report.id, None)
        return True

    async def _message(self, report: CampaignReport) -> tuple[str, str]:
        """Post the campaign's message, or edit it; its channel and ts."""
        message = campaign_message(report)
        if report.slack_ts is not None and report.slack_channel is not None:
            if self._shown.get(report.id) != message:
                await self._slack.chat_update(
                    channel=report.slack_channel,
                    ts=report.slack_ts,
                    text=message.text,
                    blocks=message.blocks,
                )
                self._shown[report.id] = message
            return report.slack_channel, report.slack_ts
        found = await self._earlier_message(report) if report.previous is not None else None
        if found is not None:
            channel, ts = found
            await self._store.write(
                campaign_reports.record_message, report.id, channel=channel, ts=ts
            )
            await self._slack.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            )
            self._shown[report.id] = message
            return found
        answer = await self._joining(
            report.channel_id,
            lambda: self._slack.chat_postMessage(
                channel=report.channel_id,
                text=message.text,
                blocks=message.blocks,
                metadata=_metadata(MESSAGE_EVENT, report.id),
            ),
        )
        channel, ts = str(answer["channel"]), str(answer["ts"])
        self._shown[report.id] = message
        await self._store.write(campaign_reports.record_message, report.id, channel=channel, ts=ts)
        logger.info("campaign message posted", extra={"campaign": report.id, "channel": channel})
        return channel, ts

    async def _earlier_message(self, report: CampaignReport) -> tuple[str, str] | None:
        """The campaign's message, when an attempt whose answer was lost posted it."""
        found = await earlier_posts(
            lambda: self._slack.conversations_history(
                channel=report.channel_id, limit=100, include_all_metadata=True
            ),
            lambda message: _is_event(message, MESSAGE_EVENT, report.id),
            sms_id=None,
            what="the campaign",
        )
        if not found:
            return None
        logger.info(
            "the campaign's message was found in Slack already", extra={"campaign": report.id}
        )
        return report.channel_id, str(found[0]["ts"])

    async def _summary(self, report: CampaignReport, channel: str, ts: str, now: datetime) -> None:
        """Post the closing reply in the message's thread (or edit it), and the CSV when owed."""
        reply = await self._summary_message(report)
        if report.summary_ts is not None:
            await self._slack.chat_update(
                channel=channel, ts=report.summary_ts, text=reply.text, blocks=reply.blocks
            )
            return
        found = await earlier_posts(
            lambda: self._slack.conversations_replies(
                channel=channel, ts=ts, include_all_metadata=True
            ),
            lambda message: _is_event(message, SUMMARY_EVENT, report.id),
            sms_id=None,
            what="the campaign's summary",
        )
        if found:
            await self._store.write(campaign_reports.record_summary, report.id, str(found[0]["ts"]))
            self._shown.pop(report.id, None)
            return  # its CSV went with it, or is lost with the process that posted it
        answer = await self._slack.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=reply.text,
            blocks=reply.blocks,
            metadata=_metadata(SUMMARY_EVENT, report.id),
        )
        unreached = report.counts.failed + report.counts.not_added_count
        # the CSV is owed in the same write: any replica's next step uploads it
        await self._store.write(
            campaign_reports.record_summary,
            report.id,
            str(answer["ts"]),
            csv_owed_from=now if unreached > CSV_ABOVE else None,
        )
        self._shown.pop(report.id, None)
        logger.info("campaign summary posted", extra={"campaign": report.id, "channel": channel})
        if unreached > CSV_ABOVE:
            for owed in await self._store.write(campaign_files.take_owed_csvs, now=now):
                await self._upload(owed, now)

    async def _summary_message(self, report: CampaignReport) -> SlackMessage:
        cost = await self._store.read(campaign_reports.campaign_cost, report.id)
        comment = None
        if report.counts.outcomes.get(campaign_reports.DECLINED):
            comment = await self._store.read(campaign_reports.declined_comment, report.id)
        return summary_reply(report, cost, comment=comment)

    async def _upload(self, owed: campaign_files.OwedCsv, now: datetime) -> None:
        """The unreached recipients as a CSV file in the summary's thread; owed again on failure."""
        campaign_id = owed.campaign_id
        rows = await self._store.read(campaign_reports.unreached, campaign_id)
        comment = await self._store.read(campaign_reports.declined_comment, campaign_id)
        with use_locale(self._language):
            content = unreached_csv(rows, comment=comment)
            title = _("Recipients not reached")
        try:
            await self._slack.files_upload_v2(
                channel=owed.channel,
                thread_ts=owed.thread_ts,
                content=content.encode("utf-8"),
                filename=f"campaign-{campaign_id}-not-reached.csv",
                title=title,
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as err:
            logger.warning(
                "slack did not take a campaign's CSV file; tried again later",
                extra={"campaign": campaign_id, "error": error_name(err)},
            )
            await self._store.write(campaign_files.put_off, campaign_id, until=now)
            return
        await self._store.write(campaign_files.uploaded, campaign_id)
        logger.info("campaign CSV uploaded", extra={"campaign": campaign_id, "rows": len(rows)})

    async def _joining(self, channel: str, post: _SlackCall) -> Any:  # noqa: ANN401  # Slack's answer
        """``post``, after joining the public channel when Slack says the bot is not in it."""
        try:
            return await post()
        except SlackApiError as err:
            if slack_error(err) not in _JOINABLE or transient(err):
                raise
            try:
                await self._slack.conversations_join(channel=channel)
            except SlackApiError:
                raise err from None
            return await post()

    async def _refused_now(
        self, report: CampaignReport, now: datetime, error: str, err: SlackApiError
    ) -> None:
        """Slack refused this step: the claim goes back, and the campaign waits a little longer."""
        await self._store.write(campaign_reports.release_report, report)
        times = self._refused.get(report.id, (0, now))[0] + 1
        wait = min(MAX_HOLD, 2.0 ** (times - 1) - 1)
        if err.response.status_code == HTTP_TOO_MANY_REQUESTS:
            wait = retry_after(err.response.headers)
            self._held[report.slack_channel or report.channel_id] = now + timedelta(seconds=wait)
        self._refused[report.id] = (times, now + timedelta(seconds=wait))
        logger.warning(
            "slack refused a campaign's message; tried again later",
            extra={"campaign": report.id, "error": error, "retry_in": round(wait, 1)},
        )


def _metadata(event: str, campaign_id: int) -> dict[str, Any]:
    return {"event_type": event, "event_payload": {"campaign": campaign_id}}


def _is_event(message: dict[str, Any], event: str, campaign_id: int) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != event:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and str(payload.get("campaign")) == str(campaign_id)
