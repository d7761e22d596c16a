"""Slack's mrkdwn and Block Kit as the console's terminal shows them."""

from __future__ import annotations

import html
import re
from typing import Any

from handlers.mrkdwn import MARK

__all__ = ["EMOJI", "mrkdwn_to_text", "render_blocks"]

_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]+))?>")
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
#: The emoji the bot's messages use, as the terminal shows them.
EMOJI = {
    "outbox_tray": "📤",
    "hourglass": "⏳",
    "white_check_mark": "✅",
    "x": "❌",
    "warning": "⚠️",
    "information_source": "ℹ️",  # noqa: RUF001  # the emoji, not a letter
    "test_tube": "🧪",
    "grey_question": "❔",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
}
_LINK = re.compile(r"<([^@#!>|][^>|]*)(?:\|([^>]+))?>")
# outside text's formatting characters come marked (MARK on each side): set aside while our own
# emphasis is read, so they are never taken for it, then shown as typed
_MARKED = re.compile(rf"{MARK}([*_~`]){MARK}")
_SET_ASIDE = {char: chr(0xE000 + n) for n, char in enumerate("*_~`")}
_PUT_BACK = str.maketrans({hidden: char for char, hidden in _SET_ASIDE.items()} | {MARK: None})


def mrkdwn_to_text(text: str) -> str:
    """Turn Slack mrkdwn into plain terminal text (mentions, links, entities, emphasis)."""
    text = _MENTION.sub(
        lambda m: f"{'@' if m.group(1) != '#' else '#'}{m.group(3) or m.group(2)}", text
    )
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MARKED.sub(lambda m: _SET_ASIDE[m.group(1)], text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return html.unescape(text).translate(_PUT_BACK)


def render_blocks(blocks: list[dict[str, Any]], fallback: str = "") -> list[str]:
    """Render Block Kit as readable lines: sections, fields, context, and buttons."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if "text" in block:
                lines.extend(mrkdwn_to_text(block["text"]["text"]).split("\n"))
            for item in block.get("fields", []):
                title, _, value = mrkdwn_to_text(item["text"]).partition("\n")
                lines.append(f"  {title + ':':<14} {value}")
        elif kind == "context":
            lines.extend(
                "  " + mrkdwn_to_text(e.get("text", "")) for e in block.get("elements", [])
            )
        elif kind == "actions":
            buttons = [f"[{e['text']['text']}]" for e in block.get("elements", [])]
            lines.append("  " + "  ".join(buttons))
    if not lines and fallback:
        lines = mrkdwn_to_text(fallback).split("\n")
    return lines
