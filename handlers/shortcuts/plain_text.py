"""A Slack message's text as plain SMS text: mentions to names, links to URLs, entities undone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from handlers.grammar.slack_input import MARKUP, unescape_entities
from handlers.mrkdwn import unmarked

#: Looks up a user's or a channel's name by id; ``None`` when it cannot be found.
NameLookup = Callable[[str], Awaitable[str | None]]


async def to_plain_text(text: str, *, user_name: NameLookup, channel_name: NameLookup) -> str:
    """``text`` as Slack stores it, turned into what a person reads in Slack.

    ``<@U1>`` becomes ``@name`` and ``<#C1>`` ``#name`` (looked up once per id, all at once;
    the id stays when the name cannot be found); ``<!here>`` becomes ``@here``; a link becomes
    its address, or its label followed by the address in brackets when the label hides it (an
    SMS cannot hide a link); ``mailto:`` and ``tel:`` lose their scheme. Entities are undone last.
    The marks smsbot put in outside text it showed (its own posts quote SMS texts) are removed, so
    an SMS made from such a post is the text as typed.
    """
    text = unmarked(text)
    users = {m.group(1)[1:] for m in MARKUP.finditer(text) if _is(m, "@") and not m.group(2)}
    channels = {m.group(1)[1:] for m in MARKUP.finditer(text) if _is(m, "#") and not m.group(2)}
    user_ids, channel_ids = sorted(users), sorted(channels)
    found = await asyncio.gather(
        *(user_name(i) for i in user_ids), *(channel_name(i) for i in channel_ids)
    )
    names = {
        **{"@" + i: n for i, n in zip(user_ids, found[: len(user_ids)], strict=True) if n},
        **{"#" + i: n for i, n in zip(channel_ids, found[len(user_ids) :], strict=True) if n},
    }

    def undo(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            name = label or names.get(target) or target[1:]
            return target[0] + name.lstrip("@#")
        if target.startswith("!"):
            return label or "@" + target[1:].split("^", 1)[0]
        for scheme in ("tel:", "mailto:"):
            if target.startswith(scheme):
                return label or target.removeprefix(scheme)
        if not label or unescape_entities(label) in unescape_entities(target):
            return target
        return f"{label} ({target})"

    return unescape_entities(MARKUP.sub(undo, text))


def _is(match: re.Match[str], sigil: str) -> bool:
    return match.group(1).startswith(sigil)
