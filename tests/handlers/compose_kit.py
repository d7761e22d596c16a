"""Signed modal payloads as Slack sends them: the shortcuts that open compose, a submission, a keystroke."""

from __future__ import annotations

from typing import Any

from handlers.views.compose import action_id
from tests.conftest import BotHarness


def state(**typed: Any) -> dict[str, Any]:  # Slack's per-element value shapes
    """A view's ``state.values`` with ``typed`` by block id (a str, or an element's own dict)."""
    values: dict[str, Any] = {}
    for block_id, value in typed.items():
        entry = value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
        values[block_id] = {action_id(block_id): entry}
    return {"values": values}


async def submit(
    bot: BotHarness, view: dict[str, Any], values: dict[str, Any], *, user: str = "U1"
) -> tuple[int, str]:
    """POST a signed ``view_submission`` of ``view`` holding ``values``."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "ana", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.submit",
        "view": {**view, "state": values},
    }
    return await bot.post_payload(payload)


async def keystroke(
    bot: BotHarness, view: dict[str, Any], text: str, *, view_hash: str | None = None
) -> tuple[int, str]:
    """POST a signed ``block_actions`` of the message input after a character is typed."""
    shown = {**view, "hash": view_hash or view["hash"]}
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "username": "ana", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.typed",
        "container": {"type": "view", "view_id": view["id"]},
        "view": shown,
        "actions": [
            {
                "type": "plain_text_input",
                "action_id": action_id("sms_text"),
                "block_id": "sms_text",
                "value": text,
                "action_ts": "1700000001.000002",
            }
        ],
    }
    return await bot.post_payload(payload)


async def choose_template(bot: BotHarness, view: dict[str, Any], name: str) -> tuple[int, str]:
    """POST a signed ``block_actions`` choosing template ``name`` in the compose modal."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "username": "ana", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.template",
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id("sms_template"),
                "block_id": "sms_template",
                "selected_option": {"text": {"type": "plain_text", "text": name}, "value": name},
                "action_ts": "1700000001.000003",
            }
        ],
    }
    return await bot.post_payload(payload)


async def message_shortcut(
    bot: BotHarness, text: str, *, user: str = "U1", files: list[dict[str, Any]] | None = None
) -> tuple[int, str]:
    """POST a signed ``message_action`` for a message in C7 holding ``text`` (and ``files``)."""
    message: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": "1700000000.000100",
        "user": "U2",
    }
    if files is not None:
        message["files"] = files
    payload = {
        "type": "message_action",
        "callback_id": "send_as_sms",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "name": "ana"},
        "channel": {"id": "C7", "name": "orders"},
        "trigger_id": "1337.42.shortcut",
        "response_url": f"{bot.slack.url}response/shortcut",
        "message_ts": "1700000000.000100",
        "message": message,
    }
    return await bot.post_payload(payload)


async def global_shortcut(bot: BotHarness, *, user: str = "U1") -> tuple[int, str]:
    """POST a signed global ``shortcut`` payload."""
    payload = {
        "type": "shortcut",
        "callback_id": "compose_sms",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "ana"},
        "trigger_id": "1337.42.global",
        "action_ts": "1700000000.000200",
    }
    return await bot.post_payload(payload)
