"""What the user is told when a listener fails unexpectedly, and the log line the operator gets."""

from __future__ import annotations

import logging

from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers.i18n import N_
from handlers.i18n import gettext as _

logger = logging.getLogger("handlers")

#: English message id: show it as ``gettext(UNEXPECTED_ERROR)``.
UNEXPECTED_ERROR = N_(
    ":warning: Something went wrong on smsbot's side and the request was not finished. "
    "It has been logged for the operator; please try again in a minute."
)


async def report_unexpected(error: BaseException, respond: AsyncRespond | None) -> None:
    """Log ``error`` with its traceback and tell the user in one sentence; never raises."""
    logger.error("unexpected error in a Slack listener", exc_info=error)
    if respond is None or respond.response_url is None:
        return
    try:
        await respond(text=_(UNEXPECTED_ERROR), response_type="ephemeral")
    except Exception:  # the user is told nothing more; the process lives
        logger.exception("could not tell the user about an error")
