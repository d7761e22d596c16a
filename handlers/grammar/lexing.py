"""Reading `/sms` text word by word: spaces, quoted values, dates and ids (shared by parsers)."""

from __future__ import annotations

import re
from datetime import datetime

from handlers.grammar.usage import UsageError, shorten
from handlers.i18n import gettext as _

# Slack and macOS autocorrect turn straight quotes into curly ones.
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
SINGLE_QUOTES = "'\u2018\u2019"
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}")
DATE_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)


def skip_space(text: str, pos: int) -> int:
    """Return the first position at or after ``pos`` that is not whitespace."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def token_end(text: str, pos: int) -> int:
    """Return the position of the first whitespace at or after ``pos`` (or the end)."""
    while pos < len(text) and not text[pos].isspace():
        pos += 1
    return pos


def is_quote(char: str) -> bool:
    """Tell whether ``char`` opens a quoted value (straight or curly, double or single)."""
    return char in DOUBLE_QUOTES or char in SINGLE_QUOTES


def read_quoted(text: str, pos: int) -> tuple[str, int] | None:
    """Read the quoted value opening at ``pos``; return it and the position after it.

    The value ends at the first quote of the same kind (straight and curly count alike) that is
    followed by whitespace or the end, so an apostrophe inside it stays (``'Joe's sale'``). Nothing
    inside is escaped or changed. Returns ``None`` when no quote closes it.
    """
    family = DOUBLE_QUOTES if text[pos] in DOUBLE_QUOTES else SINGLE_QUOTES
    for index in range(pos + 1, len(text)):
        if text[index] in family and (index + 1 == len(text) or text[index + 1].isspace()):
            return text[pos + 1 : index], index + 1
    return None


def to_datetime(match: re.Match[str], value: str, usage: str) -> datetime:
    """Build the datetime a :data:`DATE_TIME` match names, refusing impossible dates."""
    try:
        return datetime(  # noqa: DTZ001 - times are naive local time, as typed
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
        )
    except ValueError as error:
        raise UsageError(
            _("“%(value)s” is not a real date and time.") % {"value": shorten(value)}, usage
        ) from error


ID = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # ids are stored as SQLite integers
