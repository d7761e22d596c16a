"""Phone numbers as people paste them, turned into the international digits Mobizon wants.

:func:`parse_phone` finds the number at the start of some text (``+55 (11) 98765-4321 your order
is ready``) and says in words why it cannot; the reading itself, and :func:`format_phone` (which
shows stored digits back to people), are the domain's, in :mod:`bot.sms.phones`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sms.phones import MAX_NUMBER_TOKENS, format_phone, phone_looking_run, valid_readings
from handlers.i18n import gettext as _
from handlers.mrkdwn import short

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Shown in error sentences as the shape a number should have.
EXAMPLE_NUMBER = "+55 11 98765-4321"

__all__ = ["EXAMPLE_NUMBER", "PhoneNumberError", "format_phone", "parse_phone"]


class PhoneNumberError(ValueError):
    """The text does not start with a phone number we can send to.

    ``sentence`` says so in plain words; the grammar turns it into a usage error.
    """

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def parse_phone(source: str | Sequence[str], default_region: str) -> tuple[str, int]:
    """Find the phone number at the start of ``source``; return its digits and how much it used.

    ``source`` is either the text itself or the text already split into whitespace-free tokens.
    The number is the longest run of leading number-looking tokens (digits with ``+ ( ) - .``)
    that ``phonenumbers`` calls valid, longest tried first, so in
    ``+55 11 98765-4321 100 units ready`` it ends before ``100``. A number without ``+`` is
    read as international (``5511987654321``) or as national in ``default_region``
    (``(11) 98765-4321``), whichever is valid; bare digits valid both ways and naming two
    different numbers (``51 98765-4321``: Porto Alegre, or Peru?) are refused rather than
    guessed.

    Returns ``(digits, consumed)``: ``digits`` is the international number without ``+``
    (``"5511987654321"``); ``consumed`` is the number of tokens used when given tokens, or the
    offset just past the number when given text (the SMS text starts after it).

    A number written in one piece (``+493012345678``) ends with that piece. Where numbers vary
    in length, a run whose shorter prefix is also a valid number (``+49 30 1234567 8 Uhr``:
    ``…4567`` and text ``8 Uhr``, or ``…45678``?) is refused rather than guessed.

    Raises :class:`PhoneNumberError` when no leading run is a valid number, or when the
    longest valid run is ambiguous.
    """
    text: str | None = None
    tokens: Sequence[str] = source
    if isinstance(source, str):
        text = source
        # only a number's pieces are read: the tokens past them are the text, not looked at
        tokens = source.split(None, MAX_NUMBER_TOKENS)[:MAX_NUMBER_TOKENS]
    run = phone_looking_run(tokens)
    if run and len(whole := valid_readings(run[0], default_region)) == 1:
        # a number written in one piece ends there, even if the text starts with digits
        return whole[0], _used(text, run, 1)
    for count in range(len(run), 0, -1):
        candidate = " ".join(run[:count])
        readings = valid_readings(candidate, default_region)
        if len(readings) > 1:
            first, second = (format_phone(digits) for digits in readings)
            raise PhoneNumberError(
                _(
                    "“%(typed)s” could be %(first)s or %(second)s; "
                    "write it with + and its country code, like "
                    "%(example)s, or its area code in parentheses."
                )
                % {
                    "typed": short(candidate),
                    "first": first,
                    "second": second,
                    "example": EXAMPLE_NUMBER,
                }
            )
        if readings:
            shorter = _shorter_reading(run, count, default_region)
            if shorter is not None:
                # "+49 30 1234567 8 Uhr": a longer number, or a shorter one and "8 Uhr"?
                rest = " ".join(run[shorter[0] : count])
                raise PhoneNumberError(
                    _(
                        "“%(typed)s” could be +%(longer)s, or +%(shorter)s with "
                        "the text starting “%(rest)s”; write the number without spaces."
                    )
                    % {
                        "typed": short(candidate),
                        "longer": readings[0],
                        "shorter": shorter[1],
                        "rest": short(rest),
                    }
                )
            return readings[0], _used(text, run, count)
    shown = " ".join(run) if run else (tokens[0] if tokens else "")
    if not shown:
        raise PhoneNumberError(
            _("Give a phone number, like %(example)s.") % {"example": EXAMPLE_NUMBER}
        )
    raise PhoneNumberError(
        _(
            "“%(typed)s” is not a phone number I can send to; "
            "write it with its country code, like %(example)s."
        )
        % {"typed": short(shown), "example": EXAMPLE_NUMBER}
    )


def _shorter_reading(run: Sequence[str], count: int, default_region: str) -> tuple[int, str] | None:
    """The longest run of fewer than ``count`` tokens (at least two) that reads as a number."""
    for shorter in range(count - 1, 1, -1):
        found = valid_readings(" ".join(run[:shorter]), default_region)
        if found:
            return shorter, found[0]
    return None


def _used(text: str | None, run: Sequence[str], count: int) -> int:
    """How much of the source the first ``count`` tokens of ``run`` use.

    The offset just past them in ``text``; their number when the source was given as tokens.
    """
    if text is None:
        return count
    end = 0
    for token in run[:count]:
        # only whitespace lies between one token and the next, and a token holds none
        end = text.index(token, end) + len(token)
    return end
