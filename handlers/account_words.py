"""The sentences of the account commands (``/sms balance``, ``/sms cancel``) and alerts.

Kept together so they can be translated in one place.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.mrkdwn import escape

#: Where every refusal for lack of funds points.
SEE_BALANCE = "Check the account's balance with `/sms balance`."


def money(amount: Decimal, currency: str | None) -> str:
    """An amount with its currency: ``12.34 BRL``."""
    exact = amount == amount.quantize(Decimal("0.01"))
    shown = f"{amount:.2f}" if exact else f"{amount.normalize()}"
    return f"{shown} {escape(currency)}" if currency else shown


def balance_failed(problem: str) -> str:
    """Mobizon did not tell the balance."""
    return f":warning: I could not get the balance. {escape(problem)}"


def balance_text(
    amount: Decimal,
    currency: str | None,
    today: Decimal | None,
    last_week: Decimal | None,
    cost_problem: str | None,
) -> str:
    """The answer to ``/sms balance``."""
    lines = [f"*Balance of the Mobizon account*: {money(amount, currency)}"]
    if cost_problem is not None or today is None or last_week is None:
        lines.append(
            f"I could not get what the SMS sent through smsbot cost. {escape(cost_problem or '')}"
        )
    else:
        lines.append(f"SMS sent through smsbot today cost {money(today, currency)}")
        lines.append(f"and in the last 7 days {money(last_week, currency)}.")
    return "\n".join(lines)


def low_balance_alert(amount: Decimal, currency: str | None, threshold: Decimal) -> str:
    """Posted once when the balance drops below ``SMSBOT_LOW_BALANCE``."""
    return (
        f":warning: The Mobizon balance is low: {money(amount, currency)}, below "
        f"{money(threshold, currency)}. Sends will be refused when it runs out. {SEE_BALANCE}"
    )


def balance_recovered(amount: Decimal, currency: str | None, threshold: Decimal) -> str:
    """Posted once when the balance is back at or above ``SMSBOT_LOW_BALANCE``."""
    return (
        f":white_check_mark: The Mobizon balance is back to {money(amount, currency)} "
        f"(at least {money(threshold, currency)})."
    )


def cancel_not_ours(message_id: int) -> str:
    """``/sms cancel`` of an SMS smsbot did not send."""
    return f"SMS {message_id} was not sent through smsbot, so I cannot cancel it."


def cancel_not_yours(message_id: int, sender: str) -> str:
    """``/sms cancel`` by someone else than the sender, not an allowed user."""
    return (
        f"Only <@{sender}>, who sent SMS {message_id}, or a user in SMSBOT_ALLOWED_USERS may "
        "cancel it."
    )


def cancel_already_cancelled(message_id: int, by: str) -> str:
    """``/sms cancel`` of an SMS already cancelled."""
    return f"SMS {message_id} was already cancelled by <@{by}>."


def cancel_not_scheduled(message_id: int) -> str:
    """``/sms cancel`` of an SMS sent at once."""
    return (
        f"SMS {message_id} was not scheduled: it was sent at once, so there is nothing to "
        "cancel. Only SMS sent with `--at` can be cancelled."
    )


def cancel_already_sent(message_id: int) -> str:
    """``/sms cancel`` after the SMS's time, or once it has a final status."""
    return f"SMS {message_id} has already been sent; it cannot be cancelled."


def cancel_too_late(message_id: int) -> str:
    """``/sms cancel`` within 5 minutes of the scheduled time."""
    return (
        f"It is too late to cancel SMS {message_id}: Mobizon allows cancelling a scheduled SMS "
        "only until 5 minutes before its time."
    )


def cancel_gone(message_id: int) -> str:
    """Mobizon no longer knows the SMS's campaign."""
    return (
        f"Mobizon no longer knows the campaign of SMS {message_id}; see `/sms status {message_id}`."
    )


def cancel_unknown(message_id: int) -> str:
    """The delete's answer was lost."""
    return (
        f":warning: I could not tell whether SMS {message_id} was cancelled: Mobizon's answer "
        f"was lost. Check `/sms status {message_id}` before trying again."
    )


def cancel_failed(message_id: int, problem: str) -> str:
    """Mobizon refused the delete for another reason."""
    return f":warning: I could not cancel SMS {message_id}. {escape(problem)}"


def cancelled(message_id: int) -> str:
    """The delete went through."""
    return f"SMS {message_id} is cancelled: it will not be sent."


def cancelled_note(user_id: str) -> str:
    """On the post of a cancelled SMS."""
    return f":no_entry_sign: cancelled by <@{user_id}>"


def unknown_sender(sender: str, names: tuple[str, ...]) -> str:
    """``--from`` is not one of the account's sender names."""
    valid = ", ".join(f"`{escape(n)}`" for n in names) if names else "none"
    return (
        f"“{escape(sender)}” is not a sender name of this Mobizon account, so nothing was sent. "
        f"The valid names are: {valid}."
    )


def declined_note(comment: str | None) -> str:
    """On the post of an SMS Mobizon's moderators declined."""
    why = f": “{escape(comment)}”" if comment else ""
    return f":no_entry: declined by Mobizon's moderators, not sent{why}"


def declined_reply(message_id: int | None, recipient: str, comment: str | None) -> str:
    """The one thread reply about a declined SMS."""
    why = f" The moderator's comment: “{escape(comment)}”." if comment else ""
    return (
        f":no_entry: SMS {message_id} to {recipient} was declined by Mobizon's moderators and "
        f"will not be sent.{why}"
    )


def cost_note(cost: str, currency: str | None) -> str:
    """An SMS's cost as Mobizon stated it: ``cost 0.25 BRL``."""
    return f"cost {money(Decimal(cost), currency)}"


def sender_unchecked(sender: str) -> str:
    """``--from`` was not checked: the sender names could not be fetched."""
    return (
        f":information_source: I could not check the sender “{escape(sender)}” against the "
        "account's sender names (Mobizon did not list them), so the SMS went out unchecked; "
        "Mobizon itself refuses a sender it does not know."
    )
