"""The console shows outside text as typed: no marks, no formatting taken from it."""

from __future__ import annotations

from typing import Any

from bot.console.text import mrkdwn_to_text, render_blocks
from handlers.mrkdwn import MARK, verbatim

FORMATTED = "*x* _y_ ~z~ `w` :rage: > q"


def test_outside_text_reads_as_typed_and_our_emphasis_is_dropped() -> None:
    """Our bold label and italics are dropped; the outside text inside them is printed as typed."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*SMS*\n> {verbatim(FORMATTED)}"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*From*\n{verbatim('_Shop_')}"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{verbatim('a_b *c*')}_"}]},
    ]
    lines = render_blocks(blocks)
    assert lines == ["SMS", f"> {FORMATTED}", f"  {'From:':<14} _Shop_", "  a_b *c*"]
    assert not any(MARK in line for line in lines)


def test_our_own_formatting_still_renders() -> None:
    """Without outside text, bold, italics and emoji render as before."""
    assert mrkdwn_to_text("*Bold* and _it_ :white_check_mark: 12:30:45") == (
        "Bold and it ✅ 12:30:45"
    )
