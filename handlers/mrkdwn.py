"""The one place text from outside is made safe for Slack's mrkdwn.

Everything smsbot did not write itself (a status a webhook reported, Mobizon's messages and
search results, sender and campaign names, SMS texts, what a user typed) goes through
:func:`verbatim` before it is put into a message: Slack then shows ``<!channel>``,
``<https://evil.example|x>``, ``*bold*``, ``_x_``, ``~x~``, a backtick or ``:smile:`` as typed
instead of turning it into a mention, a link, formatting or an emoji.

Slack documents an escape for ``&``, ``<`` and ``>`` only (entities); mrkdwn has no backslash
escape for its formatting characters. A zero-width space will not do: Slack treats it as a word
boundary (its own composer inserts one to force formatting inside a word). A soft hyphen
(U+00AD) is invisible and is not a boundary, so a formatting character with one on each side
never opens or closes a span, and one before a ``>`` at the start of a line keeps it from
quoting; people have used it for exactly that. A ``plain_text`` object would need no trick but
cannot sit inside our own sentences (bold labels, emoji, mentions), and the message's fallback
``text`` is mrkdwn anyway, so one technique serves every place. The mark changes only what
Slack is shown: the SMS text stored and sent is never touched, ids and digits carry no mark,
and commands typed back (a copied sender or template name) are read with it removed
(:func:`handlers.grammar.slack_input.unescape_slack_input`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: The invisible character put beside what mrkdwn would read as formatting (see above).
MARK = "\u00ad"

#: Longest piece of typed text or of an unexpected value (an unknown status) a sentence quotes.
_SHORT = 40
_FORMATTING = frozenset("*_~`")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# what follows a colon that opens an emoji code, ``:smile:`` (a time, ``12:30:45``, has no letter)
_EMOJI_NAME = re.compile(r"[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*:")


def _pieces(text: str, *, entities: bool) -> Iterator[str]:
    """Each character of ``text`` as mrkdwn shows it as typed, marked (and escaped) as needed."""
    line_start = True
    for at, char in enumerate(text):
        piece = _ENTITIES.get(char, char) if entities else char
        if char in _FORMATTING:
            piece = f"{MARK}{char}{MARK}"
        elif (char == ">" and line_start) or (
            char == ":" and _EMOJI_NAME.match(text, at + 1) is not None
        ):
            piece = f"{MARK}{piece}" if char == ">" else f"{piece}{MARK}"
        line_start = char == "\n"
        yield piece


def verbatim(text: object) -> str:
    """``text`` for mrkdwn, shown as typed: entities escaped, formatting characters marked.

    The one function for text smsbot did not write; our own formatting around it keeps working.
    """
    return "".join(_pieces(str(text), entities=True))


def verbatim_pieces(text: str) -> list[str]:
    """:func:`verbatim` of each character of ``text`` in turn (to cut between characters)."""
    return list(_pieces(text, entities=True))


def unformatted(text: str) -> str:
    """``text`` with its formatting characters marked but not escaped (escape the sentence later).

    For outside words put into a sentence that is escaped as a whole (:func:`escape`).
    """
    return "".join(_pieces(text, entities=False))


def escape(text: object) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped, the three characters mrkdwn reads as markup.

    For a sentence of ours whose outside words are already :func:`unformatted`.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(text: str, limit: int = _SHORT) -> str:
    """``text`` cut to ``limit`` characters, the cut marked “…”, then :func:`unformatted`.

    What a sentence quotes of what was typed; the sentence is escaped as a whole later.
    """
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return unformatted(cut)


def escape_short(text: object, limit: int = _SHORT) -> str:
    """:func:`verbatim` of ``text`` cut to ``limit`` characters (cut first), marked “…”."""
    return escape(short(str(text), limit))


# exactly the marks _pieces puts in, escaped or not: a soft hyphen typed elsewhere is text
_MARKS = re.compile(
    rf"{MARK}(?=[*_~`]{MARK})|(?<=[*_~`]){MARK}|{MARK}(?=>|&gt;)|(?<=:){MARK}(?={_EMOJI_NAME.pattern})"
)


def unmarked(text: str) -> str:
    """``text`` without the marks :func:`verbatim` put in (for a terminal, or text typed back)."""
    return _MARKS.sub("", text)
