"""The sentences a send to many is answered in: each refusal, the confirmation's, the run's.

Pure functions of the values :mod:`bot.sms.sending.campaign_types` defines, for the person who
asked (the campaign's one message in its channel is another module's). Every sentence comes
from the catalogue; Mobizon's failures are worded by :func:`handlers.gateway_errors.describe`.
"""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo

from bot.mobizon import AddedRecipient, RecipientProblem
from bot.sms.sending.campaign_types import (
    AlreadyDecided,
    CampaignDuplicate,
    CampaignMissing,
    CampaignNotAllowed,
    CampaignNotSaved,
    CampaignNotSent,
    CampaignStarted,
    ConfirmRefusal,
    Expired,
    NoneLeft,
    NotYours,
    PrepareRefusal,
    RowUnsendable,
    RunOutcome,
)
from bot.sms.sending.recipients import (
    LeftOut,
    MissingPlaceholders,
    NoEntries,
    NoNumberColumn,
    NotText,
    TooManyRecipients,
    UnreadableRow,
)
from handlers import formats, send_outcomes
from handlers.campaign_preview import left_out_summary, numbers
from handlers.gateway_errors import describe
from handlers.grammar.send import text_refused
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape, escape_short
from handlers.phone import format_phone

__all__ = [
    "NAMES_SHOWN",
    "REFUSED_SHOWN",
    "cancelled",
    "confirm_refused",
    "confirmed",
    "prepare_refused",
    "ran",
]

#: How many numbers Mobizon did not add are named one by one, for each reason.
REFUSED_SHOWN = 5
#: How many column or placeholder names a refusal names; the rest are counted.
NAMES_SHOWN = 20

#: What each reason Mobizon gives for not adding a recipient means, for people.
_PROBLEMS: dict[RecipientProblem, str] = {
    RecipientProblem.EMPTY: N_("an empty number"),
    RecipientProblem.NO_NUMBER: N_("no number found"),
    RecipientProblem.NOT_INTERNATIONAL: N_("not in international form"),
    RecipientProblem.DUPLICATE: N_("already in this send"),
    RecipientProblem.STOP_LIST: N_("on Mobizon's stop list"),
    RecipientProblem.COUNTRY_BLOCKED: N_("the account may not send to its country"),
    RecipientProblem.UNKNOWN_OPERATOR: N_("its carrier or country is unknown"),
    RecipientProblem.OPERATOR_NOT_SERVED: N_("Mobizon does not send to its carrier"),
    RecipientProblem.PLACEHOLDERS_MISSING: N_("values missing for the text's placeholders"),
    RecipientProblem.CONTACT_MISSING: N_("a contact that is missing"),
    RecipientProblem.SHORT_LINK_FAILED: N_("a short link could not be made"),
    RecipientProblem.SYSTEM_ERROR: N_("Mobizon failed to add it"),
    RecipientProblem.OTHER: N_("a reason Mobizon does not document"),
}


def prepare_refused(refusal: PrepareRefusal) -> str | None:  # noqa: C901, PLR0911  # one case per refusal
    """Why nothing was prepared (nothing is stored or sent); ``None`` for a redelivery.

    The sentence may quote what was typed or a file's column names: escaped for mrkdwn.
    """
    match refusal:
        case CampaignDuplicate():
            return None  # the first delivery of the command answers
        case CampaignNotAllowed():
            return send_outcomes.not_allowed()
        case CampaignNotSaved(busy=busy):
            return _not_saved(busy=busy)
        case TooManyRecipients(entries=entries, limit=limit):
            return _(
                "That is %(entries)s; one send may go to at most %(limit)s. Split it into "
                "smaller sends."
            ) % {"entries": numbers(entries), "limit": numbers(limit)}
        case MissingPlaceholders():
            return _missing_placeholders(refusal)
        case NoneLeft(left_out=left_out, entries=entries):
            said = ngettext(
                "Nothing was sent: the %(entries)s number given is left out.",
                "Nothing was sent: none of the %(entries)s numbers given is left to send to.",
                entries,
            ) % {"entries": formats.number(entries)}
            return f"{said}\n{left_out_summary(left_out)}"
        case RowUnsendable(row=row, error=error):
            return _("Nothing was sent: the text of row %(row)s cannot be sent. %(why)s") % {
                "row": formats.number(row),
                "why": text_refused(error),
            }
        case NoEntries(header_only=True):
            return _("The file has a header row and no rows under it: there is nobody to send to.")
        case NoEntries():
            return _("There is no number to send to.")
        case NotText():
            return _(
                "The file is not a CSV text file (UTF-8 or Windows-1252); save the spreadsheet "
                "as CSV and try again."
            )
        case UnreadableRow(row=row):
            return _(
                "The file cannot be read from row %(row)s on; most often a quote there is never "
                "closed."
            ) % {"row": formats.number(row)}
        case NoNumberColumn(columns=columns):
            return _(
                "No column of the file holds phone numbers: name it phone, telefone, celular, "
                "numero, recipient or to. Its columns: %(columns)s."
            ) % {"columns": _names(columns)}


def _missing_placeholders(refusal: MissingPlaceholders) -> str:
    """The text names placeholders nothing fills: which, and what could fill them."""
    names = _names(tuple("{" + name + "}" for name in refusal.names))
    if not refusal.columns:
        return ngettext(
            "The text has the placeholder %(names)s, which a list of numbers cannot fill: send "
            "a CSV file with a column of that name, or take it out of the text.",
            "The text has the placeholders %(names)s, which a list of numbers cannot fill: send "
            "a CSV file with columns of those names, or take them out of the text.",
            len(refusal.names),
        ) % {"names": names}
    return ngettext(
        "No column of the file fills the placeholder %(names)s; its columns are %(columns)s.",
        "No column of the file fills the placeholders %(names)s; its columns are %(columns)s.",
        len(refusal.names),
    ) % {"names": names, "columns": _names(refusal.columns)}


def _names(names: tuple[str, ...]) -> str:
    """Names as typed, each quoted and escaped, joined by commas (``—`` when there are none).

    A file may have thousands of columns: the first :data:`NAMES_SHOWN` are named, the rest
    counted, so the sentence stays one Slack takes.
    """
    shown = ", ".join(f"“{escape_short(name, 40)}”" for name in names[:NAMES_SHOWN]) or "—"
    if len(names) > NAMES_SHOWN:
        shown = _("%(shown)s and %(more)s more") % {
            "shown": shown,
            "more": formats.number(len(names) - NAMES_SHOWN),
        }
    return shown


def _not_saved(*, busy: bool) -> str:
    """The database could not store what was asked: nothing was sent."""
    if busy:
        return _(
            ":warning: Nothing was sent: smsbot could not save the send (its database is "
            "busy). Please try again in a minute."
        )
    return _(
        ":warning: Nothing was sent: smsbot could not save the send. Please try again in a minute."
    )


def confirm_refused(  # noqa: PLR0911  # one case per refusal
    refusal: ConfirmRefusal, *, zone: tzinfo | None = None
) -> str:
    """Why a click on "Send to N" or "Cancel" did nothing (nothing more is sent).

    ``zone`` is the Mobizon account's time zone, which an expiry is shown in (as the preview
    showed the time to confirm by).
    """
    match refusal:
        case NotYours(user_id=user_id):
            return _(
                "Only <@%(user)s>, who asked for this send, can confirm or cancel it; nothing "
                "was done."
            ) % {"user": escape(user_id)}
        case Expired(expires_at=expires_at):
            return _(
                "This preview expired at %(time)s, so nothing was sent. Send the command again "
                "for a new preview."
            ) % {"time": formats.moment(expires_at, seconds=False, zone=zone)}
        case AlreadyDecided(state="cancelled"):
            return _("This send was cancelled already; nothing was sent.")
        case AlreadyDecided(state="failed"):
            return _("This send was tried already and failed; it is not tried again from here.")
        case AlreadyDecided(taken_over=True):
            # still going, or gone out: the other process sends it (a failed one is told above)
            return _(
                "This send was taken over by another smsbot process while this one was held up; "
                "it goes out once, from there, and its progress is posted in the channel."
            )
        case AlreadyDecided():
            return _("This send was confirmed already; it is sent once, not again.")
        case CampaignMissing():
            return _("I cannot find this send any more; nothing was sent.")
        case CampaignNotSaved(busy=busy):
            return _not_saved(busy=busy)


def confirmed(recipients: int) -> str:
    """The click on "Send to N" was taken: the send is starting."""
    return _(":outbox_tray: Confirmed: sending to %(numbers)s…") % {"numbers": numbers(recipients)}


def cancelled() -> str:
    """The preview was cancelled."""
    return _("Cancelled; nothing was sent.")


def ran(outcome: RunOutcome, left_out: tuple[LeftOut, ...] = ()) -> str:
    """What running the campaign came to, with what was left out before it (a list sent at once)."""
    match outcome:
        case CampaignStarted():
            said = _started(outcome)
        case CampaignNotSent():
            said = _not_sent(outcome)
        case _:
            said = f":warning: {confirm_refused(outcome)}"
    if left_out:
        said = f"{said}\n{left_out_summary(left_out)}"
    return said


def _started(outcome: CampaignStarted) -> str:
    """Mobizon took the campaign: how many it is sending to, and who it did not add and why."""
    lines = [_(":outbox_tray: Sending to %(numbers)s…") % {"numbers": numbers(outcome.added)}]
    if outcome.awaiting_moderation:
        lines.append(
            _(
                "Mobizon holds it for its moderators first; the campaign's message in this "
                "channel says what they decide."
            )
        )
    if outcome.refused:
        lines.append(_refused_rows(outcome.refused))
    return "\n".join(lines)


def _refused_rows(refused: tuple[AddedRecipient, ...]) -> str:
    """The numbers Mobizon did not add, by reason, the first few named."""
    lines = [
        ngettext(
            "*Mobizon did not add %(count)s number:*",
            "*Mobizon did not add %(count)s numbers:*",
            len(refused),
        )
        % {"count": formats.number(len(refused))}
    ]
    by_problem = Counter(row.problem or RecipientProblem.OTHER for row in refused)
    for problem, count in by_problem.most_common():
        rows = [row for row in refused if (row.problem or RecipientProblem.OTHER) is problem]
        shown = ", ".join(_refused_number(row) for row in rows[:REFUSED_SHOWN])
        if count > REFUSED_SHOWN:
            shown = _("%(shown)s and %(more)s more") % {
                "shown": shown,
                "more": formats.number(count - REFUSED_SHOWN),
            }
        lines.append(
            _("• %(why)s (code %(code)s): %(numbers)s")
            % {"why": _(_PROBLEMS[problem]), "code": rows[0].code, "numbers": shown}
        )
    return "\n".join(lines)


def _refused_number(row: AddedRecipient) -> str:
    """A number Mobizon did not add, as people read it."""
    number = row.number or row.recipient or ""
    if number.isascii() and number.isdigit():
        return format_phone(number)
    return f"“{escape_short(number, 30)}”"


def _not_sent(outcome: CampaignNotSent) -> str:
    """Nothing was sent, or (``outcome_unknown``) Mobizon may have started it anyway."""
    if outcome.refused and outcome.error is None:
        none_added = _(":warning: The send was *not sent*: Mobizon added none of the numbers.")
        return f"{none_added}\n{_refused_rows(outcome.refused)}"
    if outcome.error is None:
        why = _("something went wrong on smsbot's side.")
    else:
        why = escape(describe(outcome.error))
    if outcome.outcome_unknown:
        return _(
            ":warning: The send may or may not have started: %(why)s Look for it with "
            "`/sms find` before sending it again."
        ) % {"why": why}
    return _(":warning: The send was *not sent*: %(why)s") % {"why": why}
