"""``/sms optout add|list|remove``: the numbers that asked not to get SMS.

::

    /sms optout add PHONE
    /sms optout list [page:N]
    /sms optout remove PHONE

A number is read as ``/sms send`` reads one (:func:`handlers.phone.parse_phone`, the default
region for one written without a country code) and kept as international digits.
"""

from __future__ import annotations

from handlers.grammar.commands import (
    OptOutAddCommand,
    OptOutCommand,
    OptOutListCommand,
    OptOutRemoveCommand,
)
from handlers.grammar.lexing import skip_space, token_end
from handlers.grammar.templates import list_page
from handlers.grammar.usage import UsageError, usage_line
from handlers.grammar.words import OPTOUT_ACTIONS
from handlers.i18n import gettext as _
from handlers.mrkdwn import short
from handlers.phone import PhoneNumberError, parse_phone


def optout_usage() -> str:
    """The usage line of ``/sms optout``, in the active locale."""
    return usage_line("optout")


def parse_optout(rest: str, *, default_region: str) -> OptOutCommand:
    """Parse what follows ``/sms optout``."""
    pos = skip_space(rest, 0)
    end = token_end(rest, pos)
    action = OPTOUT_ACTIONS.meaning(rest[pos:end]) or ""
    if action == "list":
        return OptOutListCommand(_list_page(rest[end:].strip()))
    if action not in {"add", "remove"}:
        if pos < end:
            raise UsageError(
                _("“%(word)s” is not what to do with the opt-out list: add, list or remove.")
                % {"word": short(rest[pos:end])},
                optout_usage(),
            )
        raise UsageError(
            _("Say what to do with the opt-out list: add, list or remove."), optout_usage()
        )
    typed = rest[end:].strip()
    if not typed:
        sentence = (
            _("Give the phone number to add to the opt-out list.")
            if action == "add"
            else _("Give the phone number to take off the opt-out list.")
        )
        raise UsageError(sentence, optout_usage())
    try:
        recipient, used = parse_phone(typed, default_region)
    except PhoneNumberError as error:
        raise UsageError(error.sentence, optout_usage()) from error
    if typed[used:].strip():
        raise UsageError(
            _("Give only the phone number, nothing after it: “%(extra)s” is too much.")
            % {"extra": short(typed[used:].strip())},
            optout_usage(),
        )
    if action == "add":
        return OptOutAddCommand(recipient)
    return OptOutRemoveCommand(recipient)


def _list_page(typed: str) -> int:
    """The page ``/sms optout list`` asks for."""
    only_a_page = _("“/sms optout list” takes only a page after it, like %(example)s.")
    return list_page(typed, only_a_page, optout_usage())
