"""The sentences a send's outcome is told in: one function per outcome, one wording of each advice.

Every surface that sends (the slash command, and the console which runs it) renders the
:mod:`bot.sending.outcomes` value it gets back with :func:`render`.
"""

from __future__ import annotations

from bot.sending.outcomes import (
    Duplicate,
    NotAllowed,
    NotSaved,
    Outcome,
    OutcomeUnknown,
    Refused,
    Sent,
    SentIdReused,
    SentNotRecorded,
    SentRecordedLater,
    UnknownSender,
)
from handlers import account_words, blocks
from handlers.mrkdwn import escape
from handlers.phone import format_phone


def find_before_resending(recipient: str) -> str:
    """The advice for an SMS that may have been sent: the one wording of it."""
    return f"Look for it with `/sms find to:{recipient}` before sending it again."


def check_before_resending(recipient: str) -> str:
    """The same advice when smsbot will find out itself whether the SMS was sent."""
    advice = find_before_resending(recipient)
    lowered = advice[0].lower() + advice[1:]
    return f"smsbot checks with Mobizon in a few minutes and tells you; or {lowered}"


def not_allowed(_: NotAllowed | None = None) -> str:
    """The user may not send."""
    return (
        "You may not send SMS from Slack: ask an admin to add you to "
        "SMSBOT_ALLOWED_USERS. `/sms status` stays open to you for the SMS sent from this "
        "channel."
    )


def sent(outcome: Sent) -> str | None:
    """Sent and posted in its channel: nothing more to say; otherwise where the updates go."""
    said = _sent(outcome)
    if not outcome.sender_unchecked:
        return said
    note = account_words.sender_unchecked(outcome.sms.sender or "")
    return note if said is None else f"{said}\n{note}"


def _sent(outcome: Sent) -> str | None:
    """What :func:`sent` says about the SMS itself."""
    sms = outcome.sms
    if outcome.post_failed:
        return (
            f":white_check_mark: SMS {sms.message_id} to {format_phone(sms.recipient)} "
            "was sent, but I could not post it in this channel. Its delivery updates "
            "will come to you directly."
        )
    if outcome.post_problem is not None:
        return (
            f"{blocks.sms_message(sms).text}\n:information_source: I could not post in "
            f"this channel ({outcome.post_problem}). Invite me with `/invite @smsbot` so delivery "
            "updates appear here; until then I will send them to you directly."
        )
    return None


def refused(outcome: Refused) -> str:
    """Mobizon refused it; the gateway's sentence says why."""
    said = f":warning: SMS to {format_phone(outcome.sms.recipient)}: {escape(outcome.reason)}"
    if outcome.insufficient_funds:
        said = f"{said} {account_words.SEE_BALANCE}"
    return said


def outcome_unknown(outcome: OutcomeUnknown) -> str:
    """It may or may not have gone out."""
    recipient = outcome.sms.recipient
    if outcome.reason is None:
        why = (
            "something went wrong on smsbot's side while sending, so it may or may not have "
            "gone out."
        )
    else:
        # the gateway's sentence already says that the SMS may have gone out
        why = escape(outcome.reason)
    return f":warning: SMS to {format_phone(recipient)}: {why} {check_before_resending(recipient)}"


def not_saved(outcome: NotSaved) -> str:
    """Nothing went to Mobizon: try again."""
    busy = " (its database is busy)" if outcome.busy else ""
    return (
        f":warning: SMS to {format_phone(outcome.sms.recipient)} was *not sent*: smsbot could "
        f"not save it{busy}. Nothing went to Mobizon; please try again in a minute."
    )


def sent_recorded_later(outcome: SentRecordedLater) -> str:
    """Sent; recorded and posted as soon as the database lets smsbot."""
    return (
        f":white_check_mark: SMS {outcome.message_id} to {format_phone(outcome.sms.recipient)} "
        "was sent. smsbot could not record it yet (its database is busy); it will, and then "
        "post it here with its delivery updates. Do not send it again; check it with "
        f"`/sms status {outcome.message_id}`."
    )


def sent_not_recorded(outcome: SentNotRecorded) -> str:
    """Sent, but not recorded: no updates will follow."""
    return (
        f":white_check_mark: SMS {outcome.message_id} to {format_phone(outcome.sms.recipient)} "
        "was sent, but smsbot could not record it, so no delivery updates will follow here. "
        f"Check it with `/sms status {outcome.message_id}`."
    )


def sent_id_reused(outcome: SentIdReused) -> str:
    """Sent under an id an earlier SMS holds: neither is followed."""
    recipient = outcome.sms.recipient
    return (
        f":white_check_mark: SMS {outcome.message_id} to {format_phone(recipient)} was "
        "sent, but Mobizon gave it the id of an earlier SMS smsbot tracked, so smsbot cannot "
        "tell their delivery apart and follows neither (a restarted simulator or another "
        "Mobizon account over the same database). No delivery updates will follow here; "
        f"check it with `/sms find to:{recipient}`."
    )


def render(outcome: Outcome) -> str | None:  # noqa: C901, PLR0911  # one case per outcome
    """The ephemeral reply for ``outcome``; ``None`` when there is nothing to tell."""
    match outcome:
        case Sent():
            return sent(outcome)
        case Refused():
            return refused(outcome)
        case OutcomeUnknown():
            return outcome_unknown(outcome)
        case Duplicate():
            return None  # the first delivery of the request answers
        case NotAllowed():
            return not_allowed(outcome)
        case UnknownSender():
            return account_words.unknown_sender(outcome.sms.sender or "", outcome.names)
        case NotSaved():
            return not_saved(outcome)
        case SentRecordedLater():
            return sent_recorded_later(outcome)
        case SentNotRecorded():
            return sent_not_recorded(outcome)
        case SentIdReused():
            return sent_id_reused(outcome)
