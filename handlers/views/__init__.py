"""Modals: the compose modal opened by ``/sms`` alone and by the shortcuts."""

from slack_bolt.async_app import AsyncApp

from handlers.errors import reporting_errors
from handlers.views.compose import CALLBACK_ID, TEMPLATE_ACTION, TEXT_ACTION
from handlers.views.listeners import (
    handle_compose_submit,
    handle_compose_typed,
    handle_template_chosen,
)


def register(app: AsyncApp) -> None:
    """Register the modal listeners on ``app``."""
    app.view_submission(CALLBACK_ID)(reporting_errors(handle_compose_submit))
    app.action(TEXT_ACTION)(reporting_errors(handle_compose_typed))
    app.action(TEMPLATE_ACTION)(reporting_errors(handle_template_chosen))
