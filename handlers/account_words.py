"""The sentences of the account commands (``/sms balance``, ``/sms cancel``) and alerts.

Kept together; every sentence comes from the catalogue (:mod:`handlers.i18n`).
"""

from __future__ import annotations

from decimal import Decimal

from handlers import formats
from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape, escape_short, verbatim

#: The characters of a moderator's comment shown (Mobizon sets no limit; a post has one).
COMMENT_SHOWN = 500

#: Where every refusal for lack of funds points (translated where shown: ``_(SEE_BALANCE)``).
SEE_BALANCE = N_("Check the account's balance with `/sms balance`.")


def balance_failed(problem: str) -> str:
    """Mobizon did not tell the balance."""
    return _(":warning: I could not get the balance. %(problem)s") % {"problem": escape(problem)}


def balance_text(
    amount: Decimal,
    currency: str | None,
    today: Decimal | None,
    last_week: Decimal | None,
    cost_problem: str | None,
) -> str:
    """The answer to ``/sms balance``."""
    lines = [
        _("*Balance of the Mobizon account*: %(amount)s")
        % {"amount": formats.money(amount, currency)}
    ]
    if cost_problem is not None or today is None or last_week is None:
        lines.append(
            _("I could not get what the SMS sent through smsbot cost. %(problem)s")
            % {"problem": escape(cost_problem or "")}
        )
    else:
        lines.append(
            _("SMS sent through smsbot today cost %(today)s\nand in the last 7 days %(week)s.")
            % {"today": formats.money(today, currency), "week": formats.money(last_week, currency)}
        )
    return "\n".join(lines)


def low_balance_alert(amount: Decimal, currency: str | None, threshold: Decimal) -> str:
    """Posted once when the balance drops below ``SMSBOT_LOW_BALANCE``."""
    return _(
        ":warning: The Mobizon balance is low: %(amount)s, below %(threshold)s. Sends will be "
        "refused when it runs out. %(see_balance)s"
    ) % {
        "amount": formats.money(amount, currency),
        "threshold": formats.money(threshold, currency),
        "see_balance": _(SEE_BALANCE),
    }


def balance_recovered(amount: Decimal, currency: str | None, threshold: Decimal) -> str:
    """Posted once when the balance is back at or above ``SMSBOT_LOW_BALANCE``."""
    return _(
        ":white_check_mark: The Mobizon balance is back to %(amount)s (at least %(threshold)s)."
    ) % {"amount": formats.money(amount, currency), "threshold": formats.money(threshold, currency)}


def cancel_not_ours(message_id: int) -> str:
    """``/sms cancel`` of an SMS smsbot did not send."""
    return _("SMS %(id)s was not sent through smsbot, so I cannot cancel it.") % {"id": message_id}


def cancel_not_yours(message_id: int, sender: str) -> str:
    """``/sms cancel`` by someone else than the sender, not an allowed user."""
    return _(
        "Only <@%(sender)s>, who sent SMS %(id)s, or a user in SMSBOT_ALLOWED_USERS may cancel it."
    ) % {"sender": sender, "id": message_id}


def cancel_already_cancelled(message_id: int, by: str) -> str:
    """``/sms cancel`` of an SMS already cancelled."""
    return _("SMS %(id)s was already cancelled by <@%(user)s>.") % {"id": message_id, "user": by}


def cancel_in_progress(message_id: int, by: str) -> str:
    """``/sms cancel`` while another person's cancel of the SMS is still at Mobizon."""
    return _(
        "SMS %(id)s is being cancelled by <@%(user)s> right now; "
        "see `/sms status %(id)s` in a moment."
    ) % {"id": message_id, "user": by}


def cancel_not_scheduled(message_id: int) -> str:
    """``/sms cancel`` of an SMS sent at once."""
    return _(
        "SMS %(id)s was not scheduled: it was sent at once, so there is nothing to cancel. "
        "Only SMS sent with `--at` can be cancelled."
    ) % {"id": message_id}


def cancel_already_sent(message_id: int) -> str:
    """``/sms cancel`` after the SMS's time, or once it has a final status."""
    return _("SMS %(id)s has already been sent; it cannot be cancelled.") % {"id": message_id}


def cancel_too_late(message_id: int) -> str:
    """``/sms cancel`` within 5 minutes of the scheduled time."""
    return _(
        "It is too late to cancel SMS %(id)s: Mobizon allows cancelling a scheduled SMS only "
        "until 5 minutes before its time."
    ) % {"id": message_id}


def cancel_gone(message_id: int) -> str:
    """Mobizon no longer knows the SMS's campaign."""
    return _("Mobizon no longer knows the campaign of SMS %(id)s; see `/sms status %(id)s`.") % {
        "id": message_id
    }


def cancel_unknown(message_id: int) -> str:
    """The delete's answer was lost."""
    return _(
        ":warning: I could not tell whether SMS %(id)s was cancelled: Mobizon's answer was lost. "
        "Check `/sms status %(id)s` before trying again."
    ) % {"id": message_id}


def cancel_failed(message_id: int, problem: str) -> str:
    """Mobizon refused the delete for another reason."""
    return _(":warning: I could not cancel SMS %(id)s. %(problem)s") % {
        "id": message_id,
        "problem": escape(problem),
    }


def cancelled(message_id: int) -> str:
    """The delete went through."""
    return _("SMS %(id)s is cancelled: it will not be sent.") % {"id": message_id}


def cancelled_by(user_id: str) -> str:
    """A cancelled SMS's status in ``/sms status`` and ``/sms find`` (its mark shown apart)."""
    return _("cancelled by <@%(user)s>") % {"user": user_id}


def cancelled_note(user_id: str) -> str:
    """On the post of a cancelled SMS."""
    return _(":no_entry_sign: cancelled by <@%(user)s>") % {"user": user_id}


def unknown_sender(sender: str, names: tuple[str, ...]) -> str:
    """``--from`` is not one of the account's sender names."""
    valid = ", ".join(f"`{verbatim(n)}`" for n in names) if names else _("none")
    return _(
        "“%(sender)s” is not a sender name of this Mobizon account, so nothing was sent. "
        "The valid names are: %(names)s."
    ) % {"sender": verbatim(sender), "names": valid}


def declined_note(comment: str | None) -> str:
    """On the post of an SMS Mobizon's moderators declined."""
    if comment:
        return _(":no_entry: declined by Mobizon's moderators, not sent: “%(comment)s”") % {
            "comment": escape_short(comment, COMMENT_SHOWN)
        }
    return _(":no_entry: declined by Mobizon's moderators, not sent")


def declined_reply(message_id: int | None, recipient: str, comment: str | None) -> str:
    """The one thread reply about a declined SMS."""
    said = _(
        ":no_entry: SMS %(id)s to %(recipient)s was declined by Mobizon's moderators and will "
        "not be sent."
    ) % {"id": message_id, "recipient": recipient}
    if comment:
        said += " " + _("The moderator's comment: “%(comment)s”.") % {
            "comment": escape_short(comment, COMMENT_SHOWN)
        }
    return said


def cost_note(cost: str, currency: str | None) -> str:
    """An SMS's cost as Mobizon stated it: ``cost 0.25 BRL``."""
    return _("cost %(amount)s") % {"amount": formats.money(Decimal(cost), currency)}


def sender_unchecked(sender: str) -> str:
    """``--from`` was not checked: the sender names could not be fetched."""
    return _(
        ":information_source: I could not check the sender “%(sender)s” against the account's "
        "sender names (Mobizon did not list them), so the SMS went out unchecked; Mobizon itself "
        "refuses a sender it does not know."
    ) % {"sender": verbatim(sender)}
