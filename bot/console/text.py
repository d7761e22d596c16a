"""Slack's mrkdwn and Block Kit as the console's terminal shows them."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
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


def mrkdwn_to_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Turn Slack mrkdwn into plain terminal text (mentions, links, entities, emphasis).

    A mention of a user in ``names`` shows that name, as Slack shows a person's name.
    """
    text = _MENTION.sub(lambda m: _mention(m, names or {}), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MARKED.sub(lambda m: _SET_ASIDE[m.group(1)], text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return html.unescape(text).translate(_PUT_BACK)


def _mention(match: re.Match[str], names: Mapping[str, str]) -> str:
    kind, target, label = match.groups()
    shown = label or (names.get(target) if kind == "@" else None) or target
    return f"{'#' if kind == '#' else '@'}{shown}"


def render_blocks(
    blocks: list[dict[str, Any]], fallback: str = "", names: Mapping[str, str] | None = None
) -> list[str]:
    """Render Block Kit as readable lines: sections, fields, context, and buttons."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if "text" in block:
                lines.extend(mrkdwn_to_text(block["text"]["text"], names).split("\n"))
            for item in block.get("fields", []):
                title, _, value = mrkdwn_to_text(item["text"], names).partition("\n")
                lines.append(f"  {title + ':':<14} {value}")
        elif kind == "context":
            lines.extend(
                "  " + mrkdwn_to_text(e.get("text", ""), names) for e in block.get("elements", [])
            )
        elif kind == "actions":
            buttons = [f"[{e['text']['text']}]" for e in block.get("elements", [])]
            lines.append("  " + "  ".join(buttons))
    if not lines and fallback:
        lines = mrkdwn_to_text(fallback, names).split("\n")
    return lines
