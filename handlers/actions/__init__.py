"""Interactivity listeners (buttons)."""

from slack_bolt.async_app import AsyncApp

from handlers.actions.campaign import handle_cancel, handle_confirm
from handlers.actions.find_pages import handle_find_page
from handlers.campaign_preview import CANCEL_ACTION, CONFIRM_ACTION
from handlers.errors import reporting_errors
from handlers.lookup_blocks import FIND_NEXT, FIND_PREVIOUS


def register(app: AsyncApp) -> None:
    """Register the button listeners on ``app``."""
    app.action(FIND_PREVIOUS)(reporting_errors(handle_find_page))
    app.action(FIND_NEXT)(reporting_errors(handle_find_page))
    app.action(CONFIRM_ACTION)(reporting_errors(handle_confirm))
    app.action(CANCEL_ACTION)(reporting_errors(handle_cancel))
