"""``/sms optout add|list|remove``: the numbers that asked not to get SMS, kept and shown.

The domain keeps the list (:mod:`bot.sms.sending.optouts`) and answers values; this module
words them. Numbers are shown as the SMS posts show them (``+55 11 98765-4321``).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.sms.sending.optouts import (
    AddOutcome,
    AlreadyOptedOut,
    ListOutcome,
    NotOptedOut,
    OptOutAdded,
    OptOutRemoved,
    OptOutsBusy,
    RemoveOutcome,
)
from bot.sms.sending.outcomes import NotAllowed
from handlers import formats, send_outcomes
from handlers.context import Services
from handlers.grammar import OptOutAddCommand, OptOutCommand, OptOutListCommand
from handlers.i18n import gettext as _
from handlers.i18n import ngettext
from handlers.phone import format_phone
from storage.optouts import OptOut
from storage.schema import parse_utc

#: Numbers a page of ``/sms optout list`` shows: each is one short line, so a page stays far
#: below Slack's 40,000 characters a message, and short enough to read.
PAGE_SIZE = 50


async def handle(
    ack: AsyncAck,
    cmd: OptOutCommand,
    command: dict[str, Any],
    svc: Services,
    respond: AsyncRespond,
) -> None:
    """Answer ``/sms optout …``: for who may send, as every change of who gets SMS.

    A list is answered in the ack; an addition or a removal writes the database, which another
    connection may keep locked for a while, so it is acked first and its outcome told after.
    """
    user_id = str(command["user_id"])
    keeping = svc.account.optouts
    if not keeping.may_manage(user_id):
        # answered in the ack, as every refusal made before anything is written
        await ack(text=send_outcomes.not_allowed())
        return
    if isinstance(cmd, OptOutListCommand):
        listed = await keeping.listed(page=cmd.page, size=PAGE_SIZE, user_id=user_id)
        await ack(text=listed_said(listed, svc.config.timezone))
        return
    await ack()
    if isinstance(cmd, OptOutAddCommand):
        said = added_said(await keeping.add(recipient=cmd.recipient, user_id=user_id))
    else:
        said = removed_said(await keeping.remove(recipient=cmd.recipient, user_id=user_id))
    await respond(text=said, response_type="ephemeral")


def added_said(outcome: AddOutcome) -> str:
    """What adding a number tells."""
    match outcome:
        case OptOutAdded(recipient):
            return _(
                ":no_entry_sign: %(phone)s is on the opt-out list now: smsbot sends it no SMS."
            ) % {"phone": format_phone(recipient)}
        case AlreadyOptedOut(recipient):
            return _("%(phone)s is on the opt-out list already; nothing changed.") % {
                "phone": format_phone(recipient)
            }
        case OptOutsBusy(recipient, _adding):
            return _(
                ":warning: %(phone)s was not added to the opt-out list: smsbot's database is "
                "busy. Try again in a moment."
            ) % {"phone": format_phone(recipient)}
        case NotAllowed():
            return send_outcomes.not_allowed(outcome)


def removed_said(outcome: RemoveOutcome) -> str:
    """What removing a number tells."""
    match outcome:
        case OptOutRemoved(recipient):
            return _("%(phone)s is off the opt-out list: SMS may be sent to it again.") % {
                "phone": format_phone(recipient)
            }
        case NotOptedOut(recipient):
            return _("%(phone)s is not on the opt-out list; nothing changed.") % {
                "phone": format_phone(recipient)
            }
        case OptOutsBusy(recipient, _adding):
            return _(
                ":warning: %(phone)s was not taken off the opt-out list: smsbot's database is "
                "busy. Try again in a moment."
            ) % {"phone": format_phone(recipient)}
        case NotAllowed():
            return send_outcomes.not_allowed(outcome)


def listed_said(outcome: ListOutcome, zone: tzinfo) -> str:
    """A page of the list (times in ``zone``, the Mobizon account's), and how to see the rest."""
    if isinstance(outcome, NotAllowed):
        return send_outcomes.not_allowed(outcome)
    if outcome.total == 0:
        return _("No number is on the opt-out list. `/sms optout add PHONE` puts one on it.")
    if not outcome.entries:
        return ngettext(
            "There is no page %(page)s of the opt-out list: it fits on %(pages)s page; "
            "`/sms optout list` shows it.",
            "There is no page %(page)s of the opt-out list: it fits on %(pages)s pages; "
            "`/sms optout list` shows the first.",
            outcome.pages,
        ) % {"page": formats.number(outcome.page), "pages": formats.number(outcome.pages)}
    last = outcome.first + len(outcome.entries) - 1
    header = ngettext(
        "*Opt-out list: %(total)s number*",
        "*Opt-out list: %(total)s numbers*",
        outcome.total,
    ) % {"total": formats.number(outcome.total)}
    if outcome.total > len(outcome.entries):
        header = _("*Opt-out list: numbers %(first)s to %(last)s of %(total)s*") % {
            "first": formats.number(outcome.first),
            "last": formats.number(last),
            "total": formats.number(outcome.total),
        }
    lines = [header, *(_entry(entry, zone) for entry in outcome.entries)]
    left = outcome.total - last
    if left > 0:
        lines.append(
            ngettext(
                "%(left)s more number not shown: `/sms optout list page:%(page)s` shows it.",
                "%(left)s more numbers not shown: `/sms optout list page:%(page)s` shows them.",
                left,
            )
            % {"left": formats.number(left), "page": outcome.page + 1}
        )
    return "\n".join(lines)


def _entry(entry: OptOut, zone: tzinfo) -> str:
    """One number of the list: the number, who added it and when."""
    added = parse_utc(entry.added_at)
    return _("• %(phone)s, added by <@%(user)s> on %(when)s") % {
        "phone": format_phone(entry.recipient),
        "user": entry.added_by,
        "when": formats.moment(added, seconds=False, zone=zone),
    }
