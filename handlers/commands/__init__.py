"""Slash-command listeners."""

from slack_bolt.async_app import AsyncApp

from handlers.commands.sms import handle_sms
from handlers.errors import reporting_errors


def register(app: AsyncApp) -> None:
    """Register the slash commands on ``app``."""
    app.command("/sms")(reporting_errors(handle_sms))
