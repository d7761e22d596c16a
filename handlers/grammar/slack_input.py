"""Undoing Slack's escaping of what people typed (input only; output escaping is ``mrkdwn``)."""

from __future__ import annotations

import re

from handlers.mrkdwn import MARK, unmarked

#: Slack's link and mention markup: ``<target>`` or ``<target|label>``.
MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_slack_input(text: str) -> str:
    """Undo Slack's escaping of command text: link markup first, then ``&amp;`` ``&lt;`` ``&gt;``.

    Links become their label (``<tel:+5511…|+55 11 …>`` -> ``+55 11 …``) or their address
    (``<https://x>`` -> ``https://x``); mentions stay readable (``@U123``, ``#general``,
    ``@here``). Entities are undone in one pass, so ``&amp;lt;`` becomes ``&lt;``. The marks
    smsbot puts beside outside text's formatting characters are dropped, so a sender or
    template name copied from one of its messages reads as typed.
    """
    if "<" not in text and "&" not in text and MARK not in text:
        return text  # most commands: nothing Slack escaped, no mark of ours
    return unescape_entities(MARKUP.sub(_undo_markup, unmarked(text)))


def unescape_entities(text: str) -> str:
    """Undo ``&amp;`` ``&lt;`` ``&gt;`` in one pass (``&amp;lt;`` becomes ``&lt;``)."""
    return _ENTITY.sub(lambda match: _ENTITIES[match.group(1)], text)


def _undo_markup(match: re.Match[str]) -> str:
    """Turn one ``<target|label>`` into the text a person would read."""
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#")):
        return target[0] + label if label else target
    if target.startswith("!"):
        # Special mentions: <!here>, <!subteam^S1|@team>, <!date^…|fallback>.
        return label or "@" + target[1:].split("^", 1)[0]
    if label:
        return label
    for scheme in ("tel:", "mailto:"):
        if target.startswith(scheme):
            return target.removeprefix(scheme)
    return target
