"""``/sms send`` to many: where a list of numbers separated by commas ends and the text begins.

``+55 11 98765-4321, 5511912345678 Olá a todos`` is two numbers and the text ``Olá a todos``.
A number may be written in pieces (spaces, dashes, parentheses, ``+``), and the text may hold
commas and start with digits, so the list is read one comma at a time:

- What comes before a comma is a list item when every piece of it looks like part of a number
  and it is not a number followed by text (``5511912345678 100, 200 units``: the number, then
  the text ``100, 200 units``). An item that is no number (``123``) stays in the list: the
  campaign leaves it out and says why, by its row.
- After the last item's comma comes the last number, and after it the text, read as a single
  send reads its number (:func:`~handlers.phone.parse_phone`).
- A comma after the last number (``a, b, Olá``) ends the list: the text follows it, unless it
  starts like a number that cannot be read (a number's pieces, or a word starting as a number
  with eight or more digits, such as ``551198765OO12`` mistyped with letters), which is refused
  rather than sent as text.
- Blanks between commas (``a,, b``) are dropped.

A single number followed by a comma is no list: it is read as a single send reads it, exactly
as before lists existed.
"""

from __future__ import annotations

from bot.sms.phones import phone_looking_run, valid_readings
from handlers.grammar.usage import UsageError, usage_line
from handlers.i18n import gettext as _
from handlers.phone import PhoneNumberError, parse_phone

__all__ = ["split_recipients"]

#: A word with this many digits after a list's comma is a number mistyped, never the text.
_MISTYPED_DIGITS = 8


def split_recipients(remainder: str, default_region: str) -> tuple[tuple[str, ...], str] | None:
    """The numbers of a list at the start of ``remainder`` as typed, and the text after them.

    ``None`` when ``remainder`` does not start with a list of at least two numbers (it is read
    as a single send). Raises :class:`UsageError` when a list's last number cannot be read.
    """
    items: list[str] = []
    pos = 0
    while (comma := remainder.find(",", pos)) >= 0:
        pieces = remainder[pos:comma].split()
        if pieces and not _is_item(pieces, default_region):
            break
        if pieces:
            items.append(" ".join(pieces))
        pos = comma + 1
    if not items:
        return None
    last = remainder[pos:]
    try:
        _number, end = parse_phone(last, default_region)
    except PhoneNumberError as error:
        if not phone_looking_run(last.split()[:1]) and not _mistyped_number(last):
            if len(items) < 2:  # noqa: PLR2004  # one number, a comma and words: no list
                return None
            return tuple(items), last.lstrip()  # the list ended with a comma; the text follows
        if len(items) < 2 and _single_send(remainder, default_region):  # noqa: PLR2004
            return None  # "5511987654321 , 100 units" was always the text ", 100 units"
        sentence = _("%(why)s If that is the text, remove the comma before it.") % {
            "why": error.sentence
        }
        raise UsageError(sentence, usage_line("send")) from error
    items.append(" ".join(last[:end].split()))
    return tuple(items), last[end:].lstrip()


def _mistyped_number(text: str) -> bool:
    """Whether ``text`` starts with a word that starts as a number and holds many digits.

    ``551198765OO12`` or ``+5511987650O12``: a number mistyped; ``Pedido#12345678`` is text.
    """
    first = text.split(maxsplit=1)[:1]
    if not first or not (first[0][:1].isdigit() or first[0][:1] in "+("):
        return False
    return sum(char.isdigit() for char in first[0]) >= _MISTYPED_DIGITS


def _single_send(remainder: str, default_region: str) -> bool:
    """Whether ``remainder`` reads as one number and a text, as before lists existed."""
    try:
        parse_phone(remainder, default_region)
    except PhoneNumberError:
        return False
    return True


def _is_item(pieces: list[str], default_region: str) -> bool:
    """Whether the pieces before a comma are one list item, rather than a number and text."""
    if len(phone_looking_run(pieces)) != len(pieces):
        return False
    if valid_readings(" ".join(pieces), default_region):
        return True  # a number (or two readings, which the campaign leaves out as ambiguous)
    try:
        _number, used = parse_phone(pieces, default_region)
    except PhoneNumberError:
        return True  # no number at all: an item the campaign leaves out as unreadable
    return used == len(pieces)
