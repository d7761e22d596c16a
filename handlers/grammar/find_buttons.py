"""The value of a Previous/Next button under ``/sms find`` results: the page and the search.

The value is the page number, one space, then the search exactly as typed after ``find``
(:attr:`FindCommand.source`); a click parses the search again with :func:`parse_find`, so the
buttons need no format of their own and follow the grammar as it is. :func:`parse_find` refuses a
search longer than :data:`MAX_FIND_TEXT`, so every value fits Slack's 2,000 characters.

Words of every language are read whatever the clicker's language; a date with slashes is read day
first, since only a reader whose language writes dates so could have typed it (elsewhere it is
refused).
"""

from __future__ import annotations

from dataclasses import replace

from handlers.grammar.commands import FindCommand
from handlers.grammar.find import BUTTON_VALUE_LIMIT, MAX_FIND_TEXT, PAGE_MARGIN, parse_find
from handlers.grammar.lexing import ID
from handlers.grammar.usage import UsageError, usage_line
from handlers.i18n import gettext as _

__all__ = ["BUTTON_VALUE_LIMIT", "MAX_FIND_TEXT", "find_button_value", "parse_find_button"]

_MAX_BUTTON_PAGE = 10 ** (PAGE_MARGIN - 1) - 1  # the page's digits and a space fit the margin


def find_button_value(command: FindCommand, page: int) -> str:
    """The value of a button that shows ``page`` of the search ``command`` came from."""
    return f"{page} {command.source}"


def parse_find_button(value: str) -> FindCommand:
    """The search and page a button value made by :func:`find_button_value` names.

    Raises :class:`UsageError` when the value is not one (an old or altered button, or a search
    the grammar no longer accepts).
    """
    page, space, source = value.partition(" ")
    try:
        if not space or not ID.fullmatch(page) or not 0 < int(page) <= _MAX_BUTTON_PAGE:
            raise ValueError(page)  # noqa: TRY301 - one refusal path for every bad value
        # Day first: a slashed date was accepted only from a reader who writes dates so.
        return replace(parse_find(source, day_first=True), page=int(page))
    except (ValueError, UsageError) as error:
        raise UsageError(
            _("That button belongs to a search I can no longer read; run /sms find again."),
            usage_line("find"),
        ) from error
