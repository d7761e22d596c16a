"""Reading `/sms` text word by word: spaces, quoted values, dates and ids (shared by parsers)."""

from __future__ import annotations

import re
from datetime import datetime

from handlers.grammar.usage import UsageError
from handlers.grammar.words import reader_day_first
from handlers.i18n import gettext as _
from handlers.mrkdwn import short

# Slack and macOS autocorrect turn straight quotes into curly ones.
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
SINGLE_QUOTES = "'\u2018\u2019"
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}")
DATE_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)
#: A date written day first with slashes, ``30/11/2026``: read so only where people write so.
SLASHED_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}")
_SLASHED_DATE_TIME = re.compile(
    r"(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)


def is_date(word: str) -> bool:
    """Tell whether ``word`` is a date alone (ISO or slashed), so a time may follow it."""
    return DATE.fullmatch(word) is not None or SLASHED_DATE.fullmatch(word) is not None


def match_date_time(
    value: str, usage: str, *, example: str, day_first: bool | None = None
) -> re.Match[str] | None:
    """Match ``value`` as a date and maybe a time: year first always, day first where read so.

    ``day_first`` (default: whether the reader's language writes dates day first) allows
    ``30/11/2026 14:30``. Elsewhere a slashed date could be month first or day first, so it is
    refused with a sentence pointing at the year-first form ``example``. Returns ``None`` when
    ``value`` is no date at all; the groups are named alike either way (see :func:`to_datetime`).
    """
    text = value.strip()
    match = DATE_TIME.fullmatch(text)
    if match is not None:
        return match
    slashed = _SLASHED_DATE_TIME.fullmatch(text)
    if slashed is None:
        return None
    if reader_day_first() if day_first is None else day_first:
        return slashed
    raise UsageError(
        _(
            "“%(value)s” could be read month first or day first; "
            "write the year first, like %(example)s."
        )
        % {"value": short(value), "example": example},
        usage,
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
    """Build the datetime a :func:`match_date_time` match names, refusing impossible dates."""
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
            _("“%(value)s” is not a real date and time.") % {"value": short(value)}, usage
        ) from error


ID = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # ids are stored as SQLite integers
