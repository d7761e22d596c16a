"""Phone numbers as people write them, read into the international digits Mobizon wants.

Pure functions over the ``phonenumbers`` library, with no sentences: the surfaces word what they
find. :func:`valid_readings` is the one reading of a candidate number (international, or national
in the default region); :func:`phone_looking_run` picks the leading tokens of a text that could be
a number; :func:`read_number` reads a whole piece of text (a list item, a CSV cell) as one number;
:func:`format_phone` shows stored digits back to people.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    from collections.abc import Sequence

# A token can be part of a number only if it is made of these characters and holds a digit.
_PHONE_TOKEN = re.compile(r"[0-9+().\-]*[0-9][0-9+().\-]*")
#: No valid number is written in more pieces than this; bounds the work on long texts.
MAX_NUMBER_TOKENS = 10


def phone_looking_run(tokens: Sequence[str]) -> list[str]:
    """Return the leading tokens that could be pieces of a phone number (at most ten)."""
    run: list[str] = []
    for token in tokens[:MAX_NUMBER_TOKENS]:
        if not _PHONE_TOKEN.fullmatch(token):
            break
        run.append(token)
    return run


#: How many numbers' readings and displays are kept: a command reads its number, checks it and
#: shows it back (three parses of one number without the cache), and a burst repeats numbers.
_CACHED_NUMBERS = 4096


@functools.lru_cache(maxsize=_CACHED_NUMBERS)
def valid_readings(candidate: str, default_region: str) -> tuple[str, ...]:
    """Return the distinct E.164 digits ``candidate`` validly reads as (none, one or two).

    With ``+`` only the international reading counts; bare digits are read both as
    international and as national in ``default_region``; a leading parenthesis means a
    national area code, so such a candidate is read only as national. Two readings mean the
    digits name two different numbers (``51 98765-4321``: Porto Alegre, or Peru?).
    """
    attempts: list[tuple[str, str | None]] = []
    if candidate.startswith("+"):
        attempts.append((candidate, None))
    else:
        if candidate[:1].isdigit():
            attempts.append(("+" + candidate, None))
        attempts.append((candidate, default_region.upper()))
    readings: list[str] = []
    for text, region in attempts:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
            if e164.removeprefix("+") not in readings:
                readings.append(e164.removeprefix("+"))
    return tuple(readings)


def read_number(text: str, default_region: str) -> tuple[str, ...]:
    """Read the whole of ``text`` as one phone number, as a single send reads its number.

    Every whitespace-separated piece must look like part of a number (digits with
    ``+ ( ) - .``), at most :data:`MAX_NUMBER_TOKENS` of them; the pieces are then read by
    :func:`valid_readings`. Returns its readings: none (not a number we can send to), one (the
    international digits without ``+``), or two (ambiguous; neither is guessed).
    """
    tokens = text.split()
    run = phone_looking_run(tokens)
    if not run or len(run) != len(tokens):
        return ()
    return valid_readings(" ".join(run), default_region)


@functools.lru_cache(maxsize=_CACHED_NUMBERS)
def format_phone(digits: str) -> str:
    """Show international ``digits`` the way people read them (``"+55 11 98765-4321"``).

    Digits that do not parse as a number are shown as ``+`` and the digits unchanged.
    """
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
