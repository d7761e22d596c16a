"""Shortcuts: "Send as SMS" on a message, and "Send an SMS" from anywhere."""

from slack_bolt.async_app import AsyncApp

from handlers.errors import reporting_errors
from handlers.shortcuts.listeners import (
    GLOBAL_SHORTCUT,
    MESSAGE_SHORTCUT,
    handle_global_shortcut,
    handle_message_shortcut,
)


def register(app: AsyncApp) -> None:
    """Register the shortcut listeners on ``app``."""
    app.shortcut(MESSAGE_SHORTCUT)(reporting_errors(handle_message_shortcut))
    app.shortcut(GLOBAL_SHORTCUT)(reporting_errors(handle_global_shortcut))
