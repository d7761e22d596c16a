"""Every sentence and label of the compose modal and its shortcuts, in one place to translate.

The constants are English message ids (``N_``): show them as ``_(say.TITLE)``.
"""

from __future__ import annotations

from bot.sms.sending.outcomes import NotAllowed, NotSaved, Outcome, Unsendable
from bot.sms.sending.segments import MAX_SEGMENTS
from handlers import formats, send_outcomes
from handlers.blocks import characters
from handlers.grammar.send import text_refused
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape

TITLE = N_("Send an SMS")
SUBMIT = N_("Send")
CLOSE = N_("Cancel")

PHONE_LABEL = N_("Phone number")
PHONE_PLACEHOLDER = N_("+55 11 98765-4321")
PHONE_HINT = N_(
    "One number, or several: one per line or separated by commas. Leave it empty to send to "
    "the numbers of a CSV file."
)
FILE_LABEL = N_("CSV file (send to many)")
FILE_HINT = N_(
    "A header row and a column of phone numbers; every other column fills the {placeholder} of "
    "its name in the message. You see a preview before anything is sent."
)
TEXT_LABEL = N_("Message")
TEXT_PLACEHOLDER = N_("The text of the SMS")
SENDER_LABEL = N_("Sender")
SENDER_PLACEHOLDER = N_("The account's default sender")
SENDER_HINT = N_("Up to 11 letters and digits, or up to 15 digits.")
AT_LABEL = N_("Send later")
VALIDITY_LABEL = N_("Validity (minutes)")
VALIDITY_PLACEHOLDER = N_("60 to 1440")
NAME_LABEL = N_("Campaign name")
CHANNEL_LABEL = N_("Post the SMS in")
TEMPLATE_PLACEHOLDER = N_("Start from a template")


def placeholder_label(name: str) -> str:
    """The label of a template placeholder's input."""
    return _("Value for %(placeholder)s") % {"placeholder": f"{{{name}}}"}


def placeholder_missing(name: str) -> str:
    """A placeholder was left empty."""
    return _("Give a value for %(placeholder)s.") % {"placeholder": f"{{{name}}}"}


def template_unusable(problem: str) -> str:
    """A template chosen in the form breaks today's limits; ``problem`` says how."""
    return _(
        ":no_entry: %(problem)s Remove the template and save it again within the limits to use "
        "it here."
    ) % {"problem": problem}


def at_hint(zone_name: str) -> str:
    """The hint under the send-later picker: the range and the account's time zone."""
    return _(
        "1 hour to 14 days ahead. Slack shows your own time; the Mobizon account's time zone "
        "is %(zone)s."
    ) % {"zone": zone_name}


def _count(encoding: str, length: int, segments: int) -> str:
    """Encoding, characters and segments: ``UCS-2 · 98 characters · 2 SMS segments``."""
    return " · ".join(
        [
            encoding,
            characters(length),
            ngettext("%(count)s SMS segment", "%(count)s SMS segments", segments)
            % {"count": formats.number(segments)},
        ]
    )


def count_line(encoding: str, length: int, segments: int) -> str:
    """The live count under the message: encoding, characters, segments, and any warning."""
    line = _count(encoding, length, segments)
    if segments > MAX_SEGMENTS:
        return _(
            ":no_entry: %(line)s: over the limit of %(limit)s; shorten the text to send it."
        ) % {"line": line, "limit": MAX_SEGMENTS}
    if segments >= MAX_SEGMENTS - 2:
        return _(":warning: %(line)s: close to the limit of %(limit)s.") % {
            "line": line,
            "limit": MAX_SEGMENTS,
        }
    return line


def without_accents_line(length: int, segments: int) -> str:
    """Under the count, the count of the text's GSM-7 spelling (sent when the person ticks it)."""
    return _("Without accents: %(line)s") % {"line": _count("GSM-7", length, segments)}


#: The choice offered where a text needs UCS-2 and has a GSM-7 spelling.
GSM_LABEL = N_("Fewer segments")
GSM_OPTION = N_("Send without accents")


def no_plain_form(character: str) -> str:
    """Why a text cannot go without accents as ticked: ``character`` has no GSM-7 form."""
    return _(
        "This text cannot be sent without accents: “%(character)s” (%(code)s) has no plain "
        "form an SMS of 160 characters can carry. Remove it, or untick “%(option)s”."
    ) % {"character": character, "code": f"U+{ord(character):04X}", "option": _(GSM_OPTION)}


def file_chosen(name: str) -> str:
    """Under the file input: the file of the message the shortcut was used on is chosen."""
    return _(
        ":page_facing_up: *%(name)s*, attached to the message, is chosen. Choose another file "
        "above to send to it instead."
    ) % {"name": escape(name)}


EMPTY_COUNT = N_("Type the message to see how many SMS segments it takes.")

TEXT_EMPTY = N_("Write the text to send.")
PHONE_OR_FILE_EMPTY = N_("Give the phone numbers to send to, or choose a CSV file.")
NUMBERS_AND_FILE = N_("Give either phone numbers or a CSV file, not both.")


PHONE_TRAILING = N_("Give only the phone number here; the text goes in Message.")
CHANNEL_MISSING = N_("Choose where to post the SMS.")
#: A field whose value Slack sent in a form smsbot cannot read (a text input, a select, a picker).
TYPED_UNREADABLE = N_("smsbot could not read what is in this field; type it again.")
CHOICE_UNREADABLE = N_("smsbot could not read the choice in this field; choose again.")
VALIDITY_BAD = N_("Give whole minutes from 60 to 1440.")
AT_PAST = N_("This time has passed; SMS can be scheduled 1 hour to 14 days ahead.")
AT_TOO_SOON = N_("This is less than 1 hour from now; SMS can be scheduled 1 hour to 14 days ahead.")
AT_TOO_LATE = N_(
    "This is more than 14 days from now; SMS can be scheduled 1 hour to 14 days ahead."
)

NOT_IN_CHANNEL = N_(
    "This modal came without a channel to post in, so nothing was sent. Open it again from a "
    "channel."
)

NOT_SAVED = N_("smsbot could not save this SMS, so nothing was sent. Press Send again in a moment.")
NOT_SAVED_BUSY = N_(
    "smsbot could not save this SMS (its database is busy), so nothing was sent. Press Send "
    "again in a moment."
)


def claim_refused(outcome: Outcome) -> str | None:
    """The field error for a send refused before anything was recorded; ``None`` for the rest.

    A duplicate (Slack delivered the submission twice) is no refusal: the first one sends.
    """
    if isinstance(outcome, NotSaved):
        return _(NOT_SAVED_BUSY) if outcome.busy else _(NOT_SAVED)
    if isinstance(outcome, NotAllowed):
        return send_outcomes.not_allowed(outcome)
    if isinstance(outcome, Unsendable):
        return text_refused(outcome.error)
    return None


def not_opened(error: str) -> str:
    """The compose modal could not be opened; ``error`` is Slack's error name."""
    return _("I could not open the form (Slack said %(error)s); try again.") % {"error": error}


def template_added(name: str) -> str:
    """A template was saved."""
    return _(
        "Template *%(name)s* saved. Send it with `/sms send --template %(name)s PHONE key=value …`."
    ) % {"name": name}


def template_taken(name: str) -> str:
    """A template of that name exists."""
    return _("A template named *%(name)s* exists already; remove it first to replace it.") % {
        "name": name
    }


def template_removed(name: str) -> str:
    """A template was removed."""
    return _("Template *%(name)s* removed.") % {"name": name}


def template_unknown(name: str) -> str:
    """No template of that name."""
    return _("There is no template named %(name)s; `/sms template list` shows them.") % {
        "name": name
    }


def template_list(found: list[tuple[str, str]], *, first: int = 1, total: int = 0) -> str:
    """A page of the workspace's templates: name and one-line text each (made safe by the caller).

    The page starts at template ``first`` (from 1) of ``total``; the header numbers them when
    ``total`` is more than the page shows.
    """
    if not found:
        return _("No templates yet. Save one with `/sms template add NAME TEXT`.")
    header = _("*Templates*")
    if total > len(found):
        header = _("*Templates %(first)s to %(last)s of %(total)s*") % {
            "first": formats.number(first),
            "last": formats.number(first + len(found) - 1),
            "total": formats.number(total),
        }
    lines = [f"• *{name}*: “{text}”" for name, text in found]
    return header + "\n" + "\n".join(lines)


def template_list_more(*, shown_to: int, total: int, next_page: int) -> str:
    """Under a page of templates: how many are not shown, and how to see the next page."""
    return ngettext(
        "%(left)s more template not shown: `/sms template list page:%(page)s` shows it.",
        "%(left)s more templates not shown: `/sms template list page:%(page)s` shows them.",
        total - shown_to,
    ) % {"left": formats.number(total - shown_to), "page": next_page}


def template_list_no_page(page: int, pages: int) -> str:
    """A page past the last one was asked for."""
    return ngettext(
        "There is no page %(page)s of templates: they fit on %(pages)s page; "
        "`/sms template list` shows it.",
        "There is no page %(page)s of templates: they fit on %(pages)s pages; "
        "`/sms template list` shows the first.",
        pages,
    ) % {"page": formats.number(page), "pages": formats.number(pages)}


def template_busy(*, adding: bool) -> str:
    """A template could not be saved or removed: another connection holds the database."""
    if adding:
        return _(
            ":warning: The template was not saved: smsbot's database is busy. "
            "Try again in a moment."
        )
    return _(
        ":warning: The template was not removed: smsbot's database is busy. Try again in a moment."
    )
