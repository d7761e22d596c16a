"""Slash-command listeners."""

from slack_bolt.async_app import AsyncApp

from handlers.commands.sms import handle_sms


def register(app: AsyncApp) -> None:
    """Register the slash commands on ``app``."""
    app.command("/sms")(handle_sms)
