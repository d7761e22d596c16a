"""What an SMS text may hold, one rule for every surface (pure functions).

A text is sendable when it holds no control character but line breaks and tab, and takes at most
:data:`~bot.sms.sending.segments.MAX_SEGMENTS` segments. The empty text is the surfaces' to refuse:
each says in its own words what to type.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.sms.sending.segments import SegmentInfo, check_length

#: Control characters a text may hold: newline (LF, and CR of a CRLF) and tab.
ALLOWED_CONTROLS = frozenset("\n\r\t")
#: Unicode categories refused: control characters, and lone surrogates (no character at all).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


@dataclass(frozen=True, slots=True)
class ControlCharacter:
    """The first control character found: ``char`` at ``position`` (counted from 1)."""

    char: str
    position: int

    @property
    def code(self) -> str:
        """The character as people can read it: ``U+0000``."""
        return f"U+{ord(self.char):04X}"


class ControlCharacterError(ValueError):
    """The text holds a control character an SMS must not carry; ``found`` says which and where.

    It carries data, not a sentence: the surface words it for people.
    """

    def __init__(self, found: ControlCharacter) -> None:
        super().__init__(f"control character {found.code} at {found.position}")
        self.found = found


def find_control(text: str) -> ControlCharacter | None:
    """The first control character of ``text`` other than line breaks and tab, or ``None``."""
    if text.isprintable():  # no control character nor surrogate (a look at each, in C)
        return None
    for position, char in enumerate(text, start=1):
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in _REFUSED_CATEGORIES:
            return ControlCharacter(char, position)
    return None


def check_text(text: str) -> SegmentInfo:
    """Refuse a text with a control character, then one longer than the segment limit.

    Raises :class:`ControlCharacterError` or :class:`~bot.sms.sending.segments.TooLongError`;
    returns the text's segment count otherwise.
    """
    found = find_control(text)
    if found is not None:
        raise ControlCharacterError(found)
    return check_length(text)
