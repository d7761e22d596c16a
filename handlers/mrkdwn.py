"""The one place text from outside is made safe for Slack's mrkdwn.

Everything smsbot did not write itself (a status a webhook reported, Mobizon's messages and
search results, sender and campaign names, SMS texts, what a user typed) goes through
:func:`escape` before it is put into a message: Slack then shows ``<!channel>`` or
``<https://evil.example|x>`` as typed instead of turning it into a mention or a link.
"""

from __future__ import annotations

#: Longest piece of typed text or of an unexpected value (an unknown status) a sentence quotes.
_SHORT = 40


def escape(text: object) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped, the three characters mrkdwn reads as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(text: str, limit: int = _SHORT) -> str:
    """``text`` cut to ``limit`` characters, the cut marked “…” (what a sentence quotes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_short(text: object, limit: int = _SHORT) -> str:
    """:func:`escape` of ``text`` cut to ``limit`` characters (cut before escaping), marked “…”."""
    return escape(short(str(text), limit))
