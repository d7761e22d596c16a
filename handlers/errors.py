"""What the user is told when a listener fails unexpectedly, and the log line the operator gets."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import listener_started
from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.posting import tell

logger = logging.getLogger("handlers")

#: English message id: show it as ``gettext(UNEXPECTED_ERROR)``.
UNEXPECTED_ERROR = N_(
    ":warning: Something went wrong on smsbot's side and the request was not finished. "
    "It has been logged for whoever runs smsbot; please try again in a minute."
)


async def report_unexpected(
    error: BaseException,
    respond: AsyncRespond | None,
    *,
    client: AsyncWebClient | None = None,
    body: dict[str, Any] | None = None,
) -> None:
    """Log ``error`` with its traceback and tell the user in one sentence; never raises.

    Through ``respond`` when the request has a response URL; else (a modal's submission, a
    shortcut) privately in the ``body``'s channel, or in a direct message when it names none.
    """
    logger.error("unexpected error in a Slack listener", exc_info=error)
    try:
        if respond is not None and respond.response_url is not None:
            await respond(text=_(UNEXPECTED_ERROR), response_type="ephemeral")
        elif client is not None and body is not None:
            user_id = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
            channel = body.get("channel")
            channel_id = str(channel.get("id") or "") if isinstance(channel, dict) else ""
            if user_id:
                await tell(client, channel_id=channel_id, user_id=user_id, text=_(UNEXPECTED_ERROR))
    except (aiohttp.ClientError, TimeoutError) as unreachable:
        logger.warning(
            "could not tell the user about an error: Slack could not be reached",
            extra={"error": _kind(unreachable)},
        )
    except Exception:  # the user is told nothing more; the process lives
        logger.exception("could not tell the user about an error")


def _kind(error: BaseException) -> str:
    """An error's type name: a network error's text may hold the URL it failed to reach."""
    return type(error).__name__


Listener = Callable[..., Awaitable[None]]


async def _ack_unexpected(ack: AsyncAck, body: object) -> None:
    """Answer a request a listener failed before acknowledging, in the form Slack reads.

    A modal's submission takes JSON only (plain text is an error Slack shows as its own): the
    sentence goes on the view's first input, which keeps the modal open with what was typed.
    """
    if not isinstance(body, dict) or body.get("type") != "view_submission":
        await ack(text=_(UNEXPECTED_ERROR))
        return
    view = body.get("view")
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    first = next(iter(values), None) if isinstance(values, dict) else None
    if first is None:
        await ack()  # an empty answer: the modal closes
        return
    await ack(response_action="errors", errors={first: _(UNEXPECTED_ERROR)})


#: The listeners' tasks still running after their request was answered. The event loop keeps
#: only weak references to tasks: held here until done, whether or not a graceful stop tracks them.
_RUNNING: set[asyncio.Task[None]] = set()


def _answer(answered: asyncio.Future[None]) -> None:
    if not answered.done():
        answered.set_result(None)


class _Acking:
    """The listener's ``ack``: Bolt's, which also lets the request be answered once called."""

    def __init__(self, ack: AsyncAck, answered: asyncio.Future[None]) -> None:
        self._ack = ack
        self._answered = answered

    @property
    def response(self) -> BoltResponse | None:
        """The ack's answer, once given (as Bolt's ``ack.response``)."""
        return self._ack.response

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:  # noqa: ANN401  # Bolt's ack
        """Acknowledge as Bolt's ``ack`` does; then the request's answer goes out."""
        response = await self._ack(*args, **kwargs)
        _answer(self._answered)
        return response


def reporting_errors(listener: Listener) -> Listener:
    """Wrap a listener so that an exception it lets through is answered, never reaches Bolt.

    Before the ack, the user gets :data:`UNEXPECTED_ERROR` as the ack's text; after it, it is
    reported with :func:`report_unexpected` (an exception reaching Bolt's runner is answered
    500, a failure the user cannot read). Bolt reads the listener's own argument names through
    the wrapper; it must take ``ack``, and ``respond`` or ``client`` and ``body`` to tell the
    user after the ack.

    Bolt answers each request once its listener returns (``process_before_response``, set in
    :func:`bot.process.app.make_bolt_app`): the wrapper returns at the listener's ack (or its
    end) while the listener runs on in a task of its own, so the answer leaves as the ack is
    given, not when Bolt's runner, waking every 10 ms, would have seen it. That task is where
    the process learns a listener has started (:func:`~handlers.context.listener_started`): a
    graceful stop waits for it.
    """

    @functools.wraps(listener)
    async def wrapped(**kwargs: Any) -> None:  # noqa: ANN401  # Bolt passes what the listener names
        # Bolt answers the request once this returns: at the listener's ack (or its end, or its
        # failure), while the listener runs on in a task of its own
        answered = asyncio.get_running_loop().create_future()
        run = asyncio.create_task(_answering(answered, kwargs))
        _RUNNING.add(run)
        run.add_done_callback(_RUNNING.discard)
        run.add_done_callback(lambda _run: _answer(answered))
        await answered

    async def _answering(answered: asyncio.Future[None], kwargs: dict[str, Any]) -> None:
        listener_started()  # a graceful stop waits for this task from here on
        ack: AsyncAck = kwargs["ack"]
        kwargs = {**kwargs, "ack": _Acking(ack, answered)}
        try:
            await listener(**kwargs)
        except (aiohttp.ClientError, TimeoutError) as error:
            # Slack (its response URL, its Web API) could not be reached: not smsbot's bug, and
            # telling the user would go the same way; an unanswered request is still answered
            logger.warning(
                "Slack could not be reached to answer a request", extra={"error": _kind(error)}
            )
            if ack.response is None:
                await _ack_unexpected(ack, kwargs.get("body"))
        except Exception as error:  # logged with its traceback, the user told
            if ack.response is None:
                logger.error(  # noqa: TRY400  # the error is passed: this runs outside its except block
                    "unexpected error in a Slack listener before its ack", exc_info=error
                )
                await _ack_unexpected(ack, kwargs.get("body"))
                return
            await report_unexpected(
                error, kwargs.get("respond"), client=kwargs.get("client"), body=kwargs.get("body")
            )

    return wrapped
