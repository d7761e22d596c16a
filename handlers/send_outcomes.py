"""The sentences a send's outcome is told in: one function per outcome, one wording of each advice.

Every surface that sends (the slash command, and the console which runs it) renders the
:mod:`bot.sms.sending.outcomes` value it gets back with :func:`render`. Every sentence comes from
the catalogue (:mod:`handlers.i18n`); the gateway's failures are worded by
:func:`handlers.gateway_errors.describe`.
"""

from __future__ import annotations

from bot.sms.sending.outcomes import (
    ClaimTakenOver,
    Duplicate,
    NotAllowed,
    NotSaved,
    OptedOut,
    Outcome,
    OutcomeUnknown,
    Refused,
    Sent,
    SentIdReused,
    SentNotRecorded,
    SentRecordedLater,
    UnknownSender,
    Unsendable,
)
from handlers import account_words, blocks
from handlers.first_posts import FirstPost, PostState
from handlers.gateway_errors import describe
from handlers.grammar.send import text_refused
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape
from handlers.phone import format_phone


def find_before_resending(recipient: str) -> str:
    """The advice for an SMS that may have been sent: the one wording of it."""
    return _("Look for it with `/sms find to:%(recipient)s` before sending it again.") % {
        "recipient": recipient
    }


def check_before_resending(recipient: str) -> str:
    """The same advice when smsbot will find out itself whether the SMS was sent."""
    return _(
        "smsbot checks with Mobizon in a few minutes and tells you; or look for it with "
        "`/sms find to:%(recipient)s` before sending it again."
    ) % {"recipient": recipient}


def not_allowed(_outcome: NotAllowed | None = None) -> str:
    """The user may not send."""
    return _(
        "You may not send SMS from Slack: ask an admin to add you to "
        "SMSBOT_ALLOWED_USERS. `/sms status` stays open to you for the SMS sent from this "
        "channel."
    )


def opted_out(outcome: OptedOut) -> str:
    """The number is on the opt-out list: nothing was sent."""
    return _(
        ":no_entry_sign: SMS to %(phone)s was *not sent*: the number is on the opt-out list "
        "(it asked not to get SMS). Take it off with `/sms optout remove +%(digits)s` only if "
        "its owner asks for SMS again."
    ) % {"phone": format_phone(outcome.sms.recipient), "digits": outcome.sms.recipient}


def sent(outcome: Sent, post: FirstPost) -> str | None:
    """Sent and posted in its channel: nothing more to say; otherwise where the updates go."""
    said = _sent(outcome, post)
    if not outcome.sender_unchecked:
        return said
    note = account_words.sender_unchecked(outcome.sms.sender or "")
    return note if said is None else f"{said}\n{note}"


def _sent(outcome: Sent, post: FirstPost) -> str | None:
    """What :func:`sent` says about the SMS itself, by what came of its channel post."""
    sms = outcome.sms
    if post.state is PostState.LATER:
        return _(
            ":white_check_mark: SMS %(id)s to %(phone)s was sent. I have not posted it in this "
            "channel yet; it will appear here, with its delivery updates, as soon as I can."
        ) % {"id": sms.message_id, "phone": format_phone(sms.recipient)}
    if post.state is PostState.REFUSED:
        return _(
            "%(message)s\n:information_source: I could not post in this channel (%(problem)s). "
            "Invite me with `/invite @smsbot` so delivery updates appear here; until then I will "
            "send them to you directly."
        ) % {"message": blocks.sms_message(sms).text, "problem": post.problem}
    return None


def refused(outcome: Refused) -> str:
    """Mobizon refused it; the gateway's failure says why (and where to see the balance)."""
    said = _(":warning: SMS to %(phone)s: %(why)s") % {
        "phone": format_phone(outcome.sms.recipient),
        "why": escape(describe(outcome.error)),
    }
    if outcome.insufficient_funds:
        said = f"{said} {_(account_words.SEE_BALANCE)}"
    return said


def outcome_unknown(outcome: OutcomeUnknown) -> str:
    """It may or may not have gone out."""
    recipient = outcome.sms.recipient
    if outcome.error is None:
        why = _(
            "something went wrong on smsbot's side while sending, so it may or may not have "
            "gone out."
        )
    else:
        # the gateway's sentence already says that the SMS may have gone out
        why = escape(describe(outcome.error))
    return _(":warning: SMS to %(phone)s: %(why)s %(advice)s") % {
        "phone": format_phone(recipient),
        "why": why,
        "advice": check_before_resending(recipient),
    }


def not_saved(outcome: NotSaved) -> str:
    """Nothing went to Mobizon: try again."""
    phone = format_phone(outcome.sms.recipient)
    if outcome.busy:
        return _(
            ":warning: SMS to %(phone)s was *not sent*: smsbot could not save it (its database "
            "is busy). Nothing went to Mobizon; please try again in a minute."
        ) % {"phone": phone}
    return _(
        ":warning: SMS to %(phone)s was *not sent*: smsbot could not save it. Nothing went to "
        "Mobizon; please try again in a minute."
    ) % {"phone": phone}


def claim_taken_over(outcome: ClaimTakenOver) -> str:
    """Another process took the send over while this one was held up: nothing sent from here."""
    return _(
        ":hourglass: SMS to %(phone)s: smsbot was held up, and another smsbot process has taken "
        "this send over. Do not send it again: it will be posted here once sent, or you will be "
        "told it was not."
    ) % {"phone": format_phone(outcome.sms.recipient)}


def sent_recorded_later(outcome: SentRecordedLater) -> str:
    """Sent; recorded and posted as soon as the database lets smsbot."""
    return _(
        ":white_check_mark: SMS %(id)s to %(phone)s was sent. smsbot could not record it yet "
        "(its database is busy); it will, and then post it here with its delivery updates. Do "
        "not send it again; check it with `/sms status %(id)s`."
    ) % {"id": outcome.message_id, "phone": format_phone(outcome.sms.recipient)}


def sent_not_recorded(outcome: SentNotRecorded) -> str:
    """Sent, but not recorded: no updates will follow."""
    return _(
        ":white_check_mark: SMS %(id)s to %(phone)s was sent, but smsbot could not record it, "
        "so no delivery updates will follow here. Check it with `/sms status %(id)s`."
    ) % {"id": outcome.message_id, "phone": format_phone(outcome.sms.recipient)}


def sent_id_reused(outcome: SentIdReused) -> str:
    """Sent under an id an earlier SMS holds: neither is followed."""
    recipient = outcome.sms.recipient
    return _(
        ":white_check_mark: SMS %(id)s to %(phone)s was sent, but Mobizon gave it the id of an "
        "earlier SMS smsbot tracked, so smsbot cannot tell their delivery apart and follows "
        "neither (a restarted simulator or another Mobizon account over the same database). "
        "No delivery updates will follow here; check it with `/sms find to:%(recipient)s`."
    ) % {"id": outcome.message_id, "phone": format_phone(recipient), "recipient": recipient}


def render(  # noqa: C901, PLR0911, PLR0912  # one case per outcome
    outcome: Outcome, post: FirstPost | None = None
) -> str | None:
    """The ephemeral reply for ``outcome``; ``None`` when there is nothing to tell.

    ``post`` is what came of a sent SMS's channel post (:func:`handlers.first_posts.post_of`);
    not known, it is said to come later.
    """
    match outcome:
        case Sent():
            return sent(outcome, post or FirstPost(PostState.LATER))
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
        case Unsendable():
            return f":warning: {text_refused(outcome.error)}"
        case OptedOut():
            return opted_out(outcome)
        case NotSaved():
            return not_saved(outcome)
        case ClaimTakenOver():
            return claim_taken_over(outcome)
        case SentRecordedLater():
            return sent_recorded_later(outcome)
        case SentNotRecorded():
            return sent_not_recorded(outcome)
        case SentIdReused():
            return sent_id_reused(outcome)
