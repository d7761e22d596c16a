"""``/sms``: parse the command, answer bad input at once, then send, look up or search."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon.errors import MobizonError
from handlers import blocks
from handlers.context import AcceptedSend, Services, services
from handlers.errors import UNEXPECTED_ERROR, report_unexpected
from handlers.grammar import (
    HELP_TEXT,
    FindCommand,
    HelpCommand,
    SendCommand,
    StatusCommand,
    UsageError,
    find_button_value,
    parse_command,
)
from handlers.mrkdwn import escape
from handlers.phone import format_phone
from handlers.posting import post_sms_message
from handlers.segments import SegmentInfo, count_segments
from storage import messages
from storage.store import is_busy

logger = logging.getLogger(__name__)

LATEST_COUNT = 10

#: Told to whoever may not read the whole account's SMS.
FIND_REFUSED = (
    "`/sms find` searches every SMS of the Mobizon account, from every channel, so it is only "
    "for the users in SMSBOT_ALLOWED_USERS and SMSBOT_READERS: ask an admin to add you. "
    "`/sms status` shows the SMS sent from this channel."
)


async def handle_sms(
    ack: AsyncAck,
    command: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Answer one ``/sms`` command: ack within Slack's 3 seconds, then do the work."""
    svc = services(context)
    # --at is wall time as the user writes it, in the Mobizon account's time zone
    now = datetime.now(svc.config.timezone).replace(microsecond=0)
    try:
        parsed = parse_command(
            command.get("text", ""), default_region=svc.config.default_region, now=now
        )
    except UsageError as err:
        # the sentence may quote what was typed: escaped, Slack shows it rather than reading markup
        await ack(text=escape(str(err)))
        return
    except Exception:  # a bug in the grammar: the user still gets an answer within 3 s
        logger.exception("could not read an /sms command")
        await ack(text=UNEXPECTED_ERROR)
        return
    if isinstance(parsed, HelpCommand):
        await ack(text=HELP_TEXT)
        return
    user_id = str(command.get("user_id") or "")
    if not user_id or not command.get("channel_id"):
        # Slack always names both; without them nothing can be answered for the right person
        await ack(text="This command came without a user or a channel, so I cannot answer it.")
        return
    if isinstance(parsed, FindCommand) and not svc.config.may_read_all(user_id):
        await ack(text=FIND_REFUSED)
        return
    if isinstance(parsed, SendCommand) and not svc.config.may_send(user_id):
        await ack(
            text="You may not send SMS from Slack: ask an admin to add you to "
            "SMSBOT_ALLOWED_USERS. `/sms status` stays open to you for the SMS sent from this "
            "channel."
        )
        return
    await ack()
    # after the ack, every error is ours to report: letting it reach Bolt can undo the ack
    try:
        if isinstance(parsed, SendCommand):
            await send(svc, parsed, command, client, respond)
        elif isinstance(parsed, StatusCommand):
            await status(svc, parsed, command, respond)
        else:
            await find(svc, parsed, respond)
    except Exception as error:  # noqa: BLE001  # logged with its traceback, the user told
        await report_unexpected(error, respond)


async def send(
    svc: Services,
    cmd: SendCommand,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Send one SMS exactly once, record it, and post the result in the originating channel."""
    info = count_segments(cmd.text)
    try:
        claim = await _claim(svc, cmd, command, info)
    except Exception as err:  # nothing went to Mobizon: the user may simply try again
        busy = is_busy(err)
        if busy:
            logger.warning("could not claim a send: the database is locked; nothing sent")
        else:
            logger.exception("could not claim a send; nothing sent")
        await respond(
            text=f":warning: SMS to {format_phone(cmd.recipient)} was *not sent*: smsbot could "
            f"not save it{' (its database is busy)' if busy else ''}. Nothing went to Mobizon; "
            "please try again in a minute.",
            response_type="ephemeral",
        )
        return
    if claim is None:
        # Slack delivered this command twice: the first delivery owns the send
        logger.info("duplicate /sms send ignored", extra={"trigger_id": command.get("trigger_id")})
        return
    await _send_claimed(svc, cmd, claim, client, respond)


async def _claim(
    svc: Services, cmd: SendCommand, command: dict[str, Any], info: SegmentInfo
) -> messages.SmsRecord | None:
    """Claim the send (on the database's writer thread); ``None`` when Slack sent it twice."""
    return await svc.store.write(
        messages.claim_send,
        # Slack always sends one; without it, no delivery can be told from another
        trigger_id=command.get("trigger_id") or f"none:{uuid.uuid4()}",
        team_id=command.get("team_id", ""),
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        response_url=command.get("response_url"),
        recipient=cmd.recipient,
        text=cmd.text,
        sender=cmd.sender,
        segments=info.segments,
        encoding=info.encoding,
        name=cmd.name,
        deferred_to=cmd.at.strftime("%Y-%m-%d %H:%M:%S") if cmd.at else None,
        validity=cmd.validity,
        flash=cmd.flash,
        sandbox=svc.config.sandbox,
    )


async def _send_claimed(
    svc: Services,
    cmd: SendCommand,
    claim: messages.SmsRecord,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Ask Mobizon to send a claimed SMS, record its answer, post the SMS in its channel."""
    try:
        sent = await svc.gateway.send_sms(
            cmd.recipient,
            cmd.text,
            sender=cmd.sender,
            name=cmd.name,
            deferred_to=cmd.at,
            validity=cmd.validity,
            mclass=0 if cmd.flash else None,
        )
    except MobizonError as err:
        await _record_failed(svc, claim, error=str(err), outcome_unknown=err.outcome_unknown)
        logger.warning(
            "send failed", extra={"sms_id": claim.id, "outcome_unknown": err.outcome_unknown}
        )
        # the client's sentence already says whether the SMS may have gone out
        said = f":warning: SMS to {format_phone(cmd.recipient)}: {escape(str(err))}"
        if err.outcome_unknown:
            said += (
                " smsbot checks with Mobizon in a few minutes and tells you; or look for it "
                f"with `/sms find to:{cmd.recipient}` before sending it again."
            )
        await respond(text=said, response_type="ephemeral")
        return
    except Exception:
        # a bug, not Mobizon: the request may have left, so the SMS must not look unsent, and
        # the user must not be told to simply try again (that could send it twice)
        logger.exception("unexpected error while sending", extra={"sms_id": claim.id})
        await _record_failed(
            svc,
            claim,
            error="smsbot failed while sending; the SMS may or may not have been sent",
            outcome_unknown=True,
        )
        await respond(
            text=f":warning: SMS to {format_phone(cmd.recipient)}: something went wrong on "
            "smsbot's side while sending, so it may or may not have gone out. smsbot checks "
            "with Mobizon in a few minutes and tells you; or look for it with "
            f"`/sms find to:{cmd.recipient}` before sending it again.",
            response_type="ephemeral",
        )
        return
    try:
        # the SMS went out: its record is tried again while the database is locked
        sms = await svc.store.write_retrying(
            messages.record_sent,
            claim.id,
            message_id=sent.message_id,
            campaign_id=sent.campaign_id,
            campaign_status=sent.campaign_status,
        )
    except messages.MessageIdTakenError as err:
        # the gateway forgot an earlier SMS and reused its id: track neither by it, say so
        logger.warning(
            "Mobizon reused a message id smsbot already holds; neither SMS is tracked by it",
            extra={"sms_id": sent.message_id, "earlier_sms": err.holder},
        )
        await respond(
            text=f":white_check_mark: SMS {sent.message_id} to {format_phone(cmd.recipient)} was "
            f"sent, but Mobizon gave it the id of an earlier SMS smsbot tracked, so smsbot cannot "
            "tell their delivery apart and follows neither (a restarted simulator or another "
            "Mobizon account over the same database). No delivery updates will follow here; "
            f"check it with `/sms find to:{cmd.recipient}`.",
            response_type="ephemeral",
        )
        return
    except Exception as err:  # the SMS went out: never let the user think otherwise
        if is_busy(err):
            # still locked: delivery tracking records it as soon as it can, in this process
            svc.unrecorded.add(
                AcceptedSend(claim.id, sent.message_id, sent.campaign_id, sent.campaign_status)
            )
            logger.warning(
                "could not record a sent SMS yet: the database is locked; recorded later",
                extra={"sms_id": sent.message_id, "user": claim.user_id},
            )
            await respond(
                text=f":white_check_mark: SMS {sent.message_id} to "
                f"{format_phone(cmd.recipient)} was sent. smsbot could not record it yet (its "
                "database is busy); it will, and then post it here with its delivery updates. "
                f"Do not send it again; check it with `/sms status {sent.message_id}`.",
                response_type="ephemeral",
            )
            return
        logger.exception(
            "could not record a sent SMS", extra={"sms_id": sent.message_id, "user": claim.user_id}
        )
        await respond(
            text=f":white_check_mark: SMS {sent.message_id} to {format_phone(cmd.recipient)} was "
            "sent, but smsbot could not record it, so no delivery updates will follow here. "
            f"Check it with `/sms status {sent.message_id}`.",
            response_type="ephemeral",
        )
        return
    logger.info("sms sent", extra={"sms_id": sms.message_id, "channel": sms.channel_id})
    try:
        error = await post_sms_message(client, svc.store, sms, zone=svc.config.timezone)
        if error is not None:
            await respond(
                text=f"{blocks.sms_message(sms).text}\n:information_source: I could not post in "
                f"this channel ({error}). Invite me with `/invite @smsbot` so delivery updates "
                "appear here; until then I will send them to you directly.",
                response_type="ephemeral",
            )
    except Exception:  # the SMS went out: say so, never "try again"
        logger.exception(
            "could not post the sent SMS's message",
            extra={"sms_id": sms.message_id, "channel": sms.channel_id},
        )
        with contextlib.suppress(Exception):
            await respond(
                text=f":white_check_mark: SMS {sms.message_id} to {format_phone(sms.recipient)} "
                "was sent, but I could not post it in this channel. Its delivery updates "
                "will come to you directly.",
                response_type="ephemeral",
            )


async def status(
    svc: Services, cmd: StatusCommand, command: dict[str, Any], respond: AsyncRespond
) -> None:
    """Answer ``/sms status``: the ids asked, or the latest SMS sent from this channel."""
    ids = list(cmd.ids)
    title = f"Status of {len(ids)} SMS"
    hidden: list[int] = []
    if ids and not svc.config.may_read_all(command["user_id"]):
        # only what smsbot recorded as sent from this channel
        ours = await svc.store.read(messages.get_by_message_ids, ids)
        here = {
            i
            for i, sms in ours.items()
            if sms.channel_id == command["channel_id"]
            and sms.team_id == command.get("team_id", sms.team_id)
        }
        hidden = [i for i in ids if i not in here]
        ids = [i for i in ids if i in here]
        if not ids:
            report = blocks.status_report([], [], title=title, hidden=hidden)
            await respond(text=report.text, blocks=report.blocks, response_type="ephemeral")
            return
    if not ids:
        latest = await svc.store.read(
            messages.latest_in_channel,
            team_id=command.get("team_id", ""),
            channel_id=command["channel_id"],
            limit=LATEST_COUNT,
        )
        ids = [s.message_id for s in latest if s.message_id is not None]
        if not ids:
            await respond(
                text="No SMS has been sent from this channel yet.", response_type="ephemeral"
            )
            return
        title = f"Latest {len(ids)} SMS sent from this channel"
    try:
        found = await svc.gateway.get_sms_status(ids)
    except MobizonError as err:
        await respond(
            text=f":warning: I could not get the status. {escape(str(err))}",
            response_type="ephemeral",
        )
        return
    report = blocks.status_report(
        [found[i] for i in ids if i in found],
        [i for i in ids if i not in found],
        title=title,
        sandbox=svc.config.sandbox,
        hidden=hidden,
    )
    await respond(text=report.text, blocks=report.blocks, response_type="ephemeral")


async def find(
    svc: Services, cmd: FindCommand, respond: AsyncRespond, *, replace_original: bool = False
) -> None:
    """Answer ``/sms find`` (and its Previous/Next buttons) with one page of results."""
    try:
        page = await svc.gateway.list_messages(
            cmd.criteria, page=cmd.wire_page, page_size=cmd.page_size, sort=cmd.sort
        )
    except MobizonError as err:
        await respond(
            text=f":warning: I could not search the SMS. {escape(str(err))}",
            response_type="ephemeral",
            replace_original=replace_original,
        )
        return
    previous_value = find_button_value(cmd, cmd.page - 1) if cmd.page > 1 else None
    next_value = find_button_value(cmd, cmd.page + 1) if cmd.page < page.page_count else None
    message = blocks.find_results(
        page,
        people_page=cmd.page,
        previous_value=previous_value,
        next_value=next_value,
        sandbox=svc.config.sandbox,
    )
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=replace_original,
    )


async def _record_failed(
    svc: Services, claim: messages.SmsRecord, *, error: str, outcome_unknown: bool
) -> None:
    """Record that Mobizon refused the send, or may not have taken it; logged when it cannot be.

    A claim left unrecorded is settled at the next start (looked up in Mobizon).
    """
    try:
        await svc.store.write_retrying(
            messages.record_failed, claim.id, error=error, outcome_unknown=outcome_unknown
        )
    except Exception:
        logger.exception("could not record a failed send", extra={"sms_id": claim.id})
