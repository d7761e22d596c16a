"""The GSM-7 spelling of a text, where one exists: accents and typography plain (pure functions).

Accents push Portuguese text into UCS-2, 70 characters a segment instead of 160. Most of it has a
plain spelling: letters GSM 03.38 lacks lose their accent (``ã`` → ``a``, ``ç`` → ``c``,
``À`` → ``A``) while those it holds stay (``é``, ``à``, ``ü``, ``ñ``, ``Ç``); typographic quotes,
dashes, the ellipsis and unusual spaces become their plain forms. A character with no plain
form (an emoji, CJK) leaves the text without a GSM-7 spelling. Nothing here decides to use it:
the person sending chooses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.sms.sending.segments import GSM7_BASIC, GSM7_EXTENSION
from bot.sms.sending.text import find_control

_GSM7 = GSM7_BASIC | GSM7_EXTENSION

#: Plain forms of what Unicode's decompositions do not reach (or reach wrongly).
_PLAIN: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2039", "<"),
    **dict.fromkeys("\u203a", ">"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043", "-"),
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": ".",
    "\t": " ",
    # spaces of every width, non-breaking ones included
    **dict.fromkeys("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
    **dict.fromkeys("\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    # invisible: zero-width spaces and joiners, the soft hyphen, the byte-order mark
    **dict.fromkeys("\u200b\u200c\u200d\u2060\u00ad\ufeff", ""),
    # letters with no decomposition to a plain one
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0152": "OE",
    "\u0153": "oe",
    "\u0131": "i",
    "\u00d0": "D",
    "\u00f0": "d",
    "\u00de": "Th",
    "\u00fe": "th",
}

#: Categories whose compatibility decomposition is a character's plain form: letters, digits,
#: punctuation, spaces and symbols such as ``™``. Spacing accents (``¨``, category Sk)
#: decompose to a space and a combining mark, which is no plain form of them.
_DECOMPOSABLE = ("L", "N", "P", "Z", "Sm", "Sc", "So")


def gsm7_spelling(text: str) -> str | None:
    """``text`` spelt in GSM-7, or ``None`` when a character has no GSM-7 form.

    A text already GSM-7 comes back unchanged; otherwise every character GSM 03.38 holds is
    kept as it is and every other one replaced by its plain form (``ã`` → ``a``, ``“`` → ``"``,
    ``—`` → ``-``, ``…`` → ``...``, a non-breaking space → a space).
    """
    if all(char in _GSM7 for char in text):
        return text
    spelt: list[str] = []
    # NFC first: an accent typed as a combining mark joins its letter (e + U+0301 is é)
    for char in unicodedata.normalize("NFC", text):
        plain = _plain(char)
        if plain is None:
            return None
        spelt.append(plain)
    return "".join(spelt)


def without_gsm7(text: str) -> str | None:
    """The first character of ``text`` with no GSM-7 form, or ``None`` when every one has one."""
    return next((c for c in unicodedata.normalize("NFC", text) if _plain(c) is None), None)


def _plain(char: str) -> str | None:
    """``char`` as GSM-7 characters, or ``None``: itself, its plain form, or its base letter."""
    if char in _GSM7:
        return char
    if char in _PLAIN:
        return _PLAIN[char]
    category = unicodedata.category(char)
    if category in {"Mn", "Me"}:  # an accent on nothing it joins: dropped
        return ""
    if not category.startswith(_DECOMPOSABLE):
        return None
    base = "".join(
        c
        for c in unicodedata.normalize("NFKD", char)
        if unicodedata.category(c) not in {"Mn", "Me"}
    )
    if not base or base == char:
        return None
    # a compatibility form may hold only GSM-7 characters (º → o, ﬁ → fi) or not (½)
    parts = [c if c in _GSM7 else _PLAIN.get(c) for c in base]
    return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)


@dataclass(frozen=True, slots=True)
class NoPlainForm:
    """A text asked to be sent without accents holds ``character``, which has no GSM-7 form."""

    character: str


def spelt_to_send(text: str) -> str | NoPlainForm:
    """What "send without accents" sends: the GSM-7 spelling, or why there is none.

    A text holding a control character comes back as it is, for the send's text rule to refuse
    in its own words.
    """
    if find_control(text) is not None:
        return text
    spelt = gsm7_spelling(text)
    if spelt is not None:
        return spelt
    return NoPlainForm(without_gsm7(text) or "?")
