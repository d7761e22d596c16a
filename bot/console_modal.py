"""Modals in ``smsbot console``: a view rendered as text, its inputs filled at prompts.

The console has no Slack client to draw a modal, so each input block becomes one question; the
answers become the view's ``state.values`` exactly as Slack sends them in a ``view_submission``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Any

#: Typed at a field's prompt to close the modal without submitting it.
CANCEL = "cancel"

Ask = Callable[[str], Awaitable[str | None]]


def _text(node: object) -> str:
    return str(node.get("text", "")) if isinstance(node, dict) else str(node or "")


def render_view(view: dict[str, Any]) -> list[str]:
    """The view's title, then one line per block: inputs with their label, context as text."""
    lines = [f"[{_text(view.get('title'))}]"]
    for block in view.get("blocks", []):
        kind = block.get("type")
        if kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"• {_text(block.get('label'))}{optional}")
        elif kind == "context":
            lines.extend("  " + _text(e) for e in block.get("elements", []))
    return lines


def field_prompt(block: dict[str, Any], zone_name: str) -> str:
    """The question asked for one input block."""
    element = block.get("element", {})
    label = _text(block.get("label"))
    kind = element.get("type")
    extra = ""
    if kind == "static_select":
        names = [str(o.get("value")) for o in element.get("options", [])]
        extra = f" [{' | '.join(names)}]"
    elif kind == "datetimepicker":
        extra = f" [YYYY-MM-DD HH:MM, {zone_name}]"
    elif kind == "conversations_select" and element.get("initial_conversation"):
        extra = f" [default {element['initial_conversation']}]"
    optional = ", empty to skip" if block.get("optional") else ""
    return f"{label}{extra}{optional}: "


def element_value(  # noqa: PLR0911  # one answer per element type and case
    element: dict[str, Any], typed: str, zone: tzinfo
) -> dict[str, Any] | str:
    """The state Slack would send for ``typed`` in ``element``, or why it cannot be read."""
    kind = element.get("type")
    if kind == "static_select":
        if not typed:
            return {"type": kind, "selected_option": None}
        values = [str(o.get("value")) for o in element.get("options", [])]
        if typed not in values:
            return f"Choose one of {', '.join(values)}."
        return {"type": kind, "selected_option": {"value": typed}}
    if kind == "datetimepicker":
        if not typed:
            return {"type": kind, "selected_date_time": None}
        try:
            moment = datetime.strptime(typed, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        except ValueError:
            return "Write the date and time like 2026-12-01 14:30."
        return {"type": kind, "selected_date_time": int(moment.timestamp())}
    if kind == "conversations_select":
        chosen = typed or element.get("initial_conversation")
        return {"type": kind, "selected_conversation": chosen}
    # plain text; "\n" typed stands for a line break
    return {"type": "plain_text_input", "value": typed.replace("\\n", "\n") or None}


def action_of(block: dict[str, Any]) -> str:
    """The action id of an input block's element."""
    return str(block.get("element", {}).get("action_id", ""))
