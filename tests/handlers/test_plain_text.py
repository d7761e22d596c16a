"""Slack markup turned into the plain text of an SMS (the "Send as SMS" shortcut)."""

from __future__ import annotations

import pytest

from handlers.mrkdwn import verbatim
from handlers.shortcuts.plain_text import to_plain_text

NAMES = {"U1": "ana", "C1": "support"}


async def lookup(item: str) -> str | None:
    """A name from :data:`NAMES`, or ``None`` like a lookup that fails."""
    return NAMES.get(item)


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("Hi <@U1>, see <#C1>", "Hi @ana, see #support"),
        ("<@U9> stays", "@U9 stays"),
        ("<#C2|general> here", "#general here"),
        ("<!here> and <!subteam^S1|@team>", "@here and @team"),
        ("<https://x.example/a?b=1&amp;c=2>", "https://x.example/a?b=1&c=2"),
        ("<https://x.example|x.example>", "https://x.example"),
        ("<https://x.example/p|the page>", "the page (https://x.example/p)"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example"),
        ("<tel:+5511987654321>", "+5511987654321"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("&amp;lt;", "&lt;"),
    ],
)
async def test_markup_becomes_plain_text(slack: str, plain: str) -> None:
    """Mentions become names, links their URL or label, and entities are undone once."""
    assert await to_plain_text(slack, user_name=lookup, channel_name=lookup) == plain


async def test_the_marks_of_smsbots_own_posts_do_not_reach_the_sms() -> None:
    """An SMS made from smsbot's own post quoting outside text carries that text as typed."""
    typed = "*50%* off _today_ ~only~ `now`"
    assert verbatim(typed) != typed
    assert await to_plain_text(verbatim(typed), user_name=lookup, channel_name=lookup) == typed


async def test_each_name_is_looked_up_once() -> None:
    """A user mentioned twice is looked up once."""
    asked: list[str] = []

    async def counting(item: str) -> str | None:
        asked.append(item)
        return NAMES.get(item)

    text = await to_plain_text("<@U1> <@U1>", user_name=counting, channel_name=lookup)
    assert text == "@ana @ana"
    assert asked == ["U1"]
