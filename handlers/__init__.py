"""Slack listeners, one module per Slack feature, registered explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers import actions, commands, shortcuts, views
from handlers.context import CONTEXT_KEY, Services
from handlers.errors import UNEXPECTED_ERROR, report_unexpected
from handlers.languages import PeopleLanguages, language_middleware

__all__ = ["UNEXPECTED_ERROR", "handle_error", "register_listeners"]


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Register every listener, the services and language middlewares and the error handler.

    The language middleware sets the active locale for the rest of each request: the person's
    Slack language when smsbot speaks it, else the workspace's (:mod:`handlers.languages`).
    """

    async def provide_services(
        context: dict[str, Any],
        next: Callable[[], Awaitable[None]],  # noqa: A002  # Bolt passes it by this name
    ) -> None:
        context[CONTEXT_KEY] = services
        await next()

    app.middleware(provide_services)
    languages = services.languages or PeopleLanguages(services.config.language)
    app.middleware(language_middleware(languages))
    app.error(handle_error)
    commands.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)


async def handle_error(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None
) -> None:
    """Bolt's error handler: an exception a listener let through (before its ack, or a bug).

    Listeners are registered through :func:`~handlers.errors.reporting_errors`, which answers
    their errors itself: Bolt's runner resets the ack when an exception escapes a listener, and
    if that happens within its 10 ms polling step, the user's command is answered 404 after 3 s
    instead of being acknowledged. What still reaches here comes from a middleware.
    """
    await report_unexpected(error, respond if body.get("response_url") else None)
