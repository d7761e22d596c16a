"""``manifest.yml``: a Slack app manifest that installs the app as the bot expects to be reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
EVENTS_URL = "https://smsbot.example.com/slack/events"


def load() -> dict[str, Any]:
    """The manifest, parsed as YAML."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_declares_the_sms_command() -> None:
    """The /sms command is declared with a description, a usage hint naming every subcommand, and the events URL."""
    (command,) = load()["features"]["slash_commands"]
    assert command["command"] == "/sms"
    assert command["url"] == EVENTS_URL
    assert command["description"].strip()
    for word in ("send", "status", "find", "balance", "cancel", "template", "help", "enviar"):
        assert word in command["usage_hint"]


def test_manifest_asks_for_the_bot_scopes() -> None:
    """The bot asks for exactly the scopes it uses: users:read gives names and each person's language.

    channels:read and groups:read let the global shortcut check that its sender is in the channel
    picked (conversations.members); no im:read, since the sender's DM with smsbot is known.
    files:read reads a send to many's CSV file (the compose modal's, or a message's).
    files:write uploads a send to many's unreached recipients as a CSV in its summary's thread.
    """
    scopes = load()["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:join",
        "im:write",
        "channels:history",
        "groups:history",
        "im:history",
        "users:read",
        "channels:read",
        "groups:read",
        "files:read",
        "files:write",
    }


def test_manifest_declares_the_shortcuts() -> None:
    """The message and global shortcuts are declared with the callback ids the bot listens to."""
    shortcuts = {s["callback_id"]: s for s in load()["features"]["shortcuts"]}
    assert shortcuts["send_as_sms"]["type"] == "message"
    assert shortcuts["compose_sms"]["type"] == "global"
    for shortcut in shortcuts.values():
        assert 0 < len(shortcut["name"]) <= 24
        assert 0 < len(shortcut["description"]) <= 150


def test_manifest_turns_interactivity_on_and_socket_mode_off() -> None:
    """Buttons post to /slack/events (HTTP mode): interactivity on, Socket Mode off."""
    settings = load()["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"] == EVENTS_URL
    assert settings["socket_mode_enabled"] is False


def test_bot_name_matches_the_invite_hint() -> None:
    """The bot's display name is the one the "invite me" message tells people to type."""
    assert load()["features"]["bot_user"]["display_name"] == "smsbot"
