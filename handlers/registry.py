"""Every Slack listener registered on the app, with the middlewares and Bolt's error handler."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers import actions, commands, shortcuts, views
from handlers.context import CONTEXT_KEY, Services, watch_listeners
from handlers.errors import report_unexpected
from handlers.languages import PeopleLanguages, language_middleware
from handlers.middleware import RequestStep

__all__ = ["handle_error", "register_listeners"]

logger = logging.getLogger("handlers")


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Register every listener, the services and language middlewares and the error handler.

    The language middleware sets the active locale for the rest of each request: the person's
    Slack language when smsbot speaks it, else the workspace's (:mod:`handlers.languages`).
    """
    app.middleware(_ProvideServices(services))
    languages = services.languages or PeopleLanguages(services.config.language)
    app.middleware(language_middleware(languages))
    app.error(handle_error)
    commands.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)


class _ProvideServices(RequestStep):
    """Put the services in each request's Bolt context, and track its listeners' tasks."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def before(self, req: AsyncBoltRequest) -> None:
        """The services in the context; each listener's task tracked from its start."""
        req.context[CONTEXT_KEY] = self._services
        watch_listeners(self._services)


async def handle_error(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None
) -> BoltResponse | None:
    """Bolt's error handler: an exception a listener let through (before its ack, or a bug).

    Listeners are registered through :func:`~handlers.errors.reporting_errors`, which answers
    their errors itself: Bolt's runner answers 500 when an exception escapes a listener before
    the request is answered, and Slack shows the user a failure instead of the listener's own
    sentence. What still reaches here comes from a middleware, or is a request no listener
    takes: that one is a WARNING naming its type (Bolt's own line quotes the payload's callback
    ids and typed values), answered 404, or 200 empty for a modal submission.

    A modal submission is always answered with nothing (Slack closes the modal), never the plain
    text or empty 500 Slack cannot read.
    """
    kind = body.get("type") if isinstance(body.get("type"), str) else None
    if isinstance(error, BoltUnhandledRequestError):
        logger.warning("no listener takes this Slack request", extra={"payload_type": kind})
    else:
        await report_unexpected(error, respond if body.get("response_url") else None)
    if kind == "view_submission":
        return BoltResponse(status=200, body="")
    return None
