"""A send to many from the compose modal, after the modal has closed.

The submission is acknowledged first (Slack waits 3 seconds); then the CSV file is read from
Slack, the campaign service prepares the campaign, and the person who asked sees, privately in
the channel chosen, the preview with its "Send to N" and "Cancel" buttons (the slash command's
own), or why nothing can be sent. A list needing no confirmation is sent at once.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.sending.campaign_types import CampaignRequest, Prepared
from bot.sms.sending.types import Origin
from handlers.campaign_answers import prepare_refused, ran
from handlers.campaign_preview import preview_message
from handlers.context import Services, campaign_service
from handlers.posting import tell
from handlers.slack_files import FileRefused, read_csv_file, refused_sentence
from handlers.views.compose_submission import ManySubmission

logger = logging.getLogger(__name__)


async def send_to_many(
    svc: Services, client: AsyncWebClient, many: ManySubmission, origin: Origin
) -> None:
    """Read the recipients, prepare the campaign, and show its preview (or send it at once)."""
    csv: bytes | None = None
    source: str | None = None
    file_id = many.recipients.file_id
    if file_id is not None:
        read = await read_csv_file(client, file_id)
        if isinstance(read, FileRefused):
            logger.info("a send to many's file was not read", extra={"problem": read.problem})
            await _tell(client, origin, refused_sentence(read))
            return
        csv, source = read.data, read.name
    request = CampaignRequest(
        text=many.text,
        origin=origin,
        typed=many.recipients.typed if csv is None else None,
        csv=csv,
        source=source,
        options=many.options,
    )
    campaigns = campaign_service(svc)
    prepared = await campaigns.prepare(request)
    if not isinstance(prepared, Prepared):
        said = prepare_refused(prepared)
        if said is not None:  # None: Slack delivered the submission twice; the first answers
            await _tell(client, origin, said)
        return
    if prepared.needs_confirmation:
        message = preview_message(prepared, zone=svc.config.timezone)
        await tell(
            client,
            channel_id=origin.channel_id,
            user_id=origin.user_id,
            text=message.text,
            blocks=message.blocks,
        )
        return
    outcome = await campaigns.run(prepared.campaign_id)
    await _tell(client, origin, ran(outcome, prepared.preview.left_out))


async def _tell(client: AsyncWebClient, origin: Origin, text: str) -> None:
    await tell(client, channel_id=origin.channel_id, user_id=origin.user_id, text=text)
