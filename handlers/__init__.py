"""Slack listeners, one module per Slack feature, registered explicitly."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers import actions, commands
from handlers.context import CONTEXT_KEY, Services

logger = logging.getLogger(__name__)

UNEXPECTED_ERROR = (
    ":warning: Something went wrong on smsbot's side and the request was not finished. "
    "It has been logged for the operator; please try again in a minute."
)


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Register every listener, the services middleware and the one error handler on ``app``."""

    async def provide_services(
        context: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:  # noqa: A002  # Bolt passes it by this name
        context[CONTEXT_KEY] = services
        context["store"] = services.db  # the names DESIGN.md gives
        context["mobizon"] = services.gateway
        await next()

    app.middleware(provide_services)
    app.error(handle_error)
    commands.register(app)
    actions.register(app)


async def handle_error(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None
) -> None:
    """Log an unexpected error with its traceback and tell the user in one sentence."""
    logger.error("unexpected error in a Slack listener", exc_info=error)
    if respond is not None and body.get("response_url"):
        try:
            await respond(text=UNEXPECTED_ERROR, response_type="ephemeral")
        except Exception:  # the user is told nothing more; the process lives
            logger.exception("could not tell the user about an error")
