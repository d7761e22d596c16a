"""Interactivity listeners (buttons)."""

from slack_bolt.async_app import AsyncApp

from handlers.actions.find_pages import handle_find_page
from handlers.errors import reporting_errors
from handlers.lookup_blocks import FIND_NEXT, FIND_PREVIOUS


def register(app: AsyncApp) -> None:
    """Register the button listeners on ``app``."""
    app.action(FIND_PREVIOUS)(reporting_errors(handle_find_page))
    app.action(FIND_NEXT)(reporting_errors(handle_find_page))
