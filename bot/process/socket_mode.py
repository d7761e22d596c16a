"""Socket Mode: when ``SLACK_APP_TOKEN`` is set, Slack's events arrive over a WebSocket.

The same Bolt app (same listeners) handles them; ``/healthz``, ``/metrics`` and
``/mobizon/webhook`` are still served over HTTP by the aiohttp server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.process.logs import LogThrottle
from bot.process.runtime import RUNTIME
from bot.process.slack_requests import BadSlackRequestError, check_fields, log_refusal

logger = logging.getLogger(__name__)

__all__ = ["SocketMode", "SocketModeStartError", "socket_mode"]


class SocketModeStartError(RuntimeError):
    """Slack refused to open a Socket Mode connection (a wrong SLACK_APP_TOKEN, usually)."""


class SocketMode(AsyncSocketModeHandler):
    """Bolt's aiohttp Socket Mode handler, failing fast when Slack refuses the app token."""

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        *,
        web_client: AsyncWebClient,
        log_throttle: LogThrottle,
    ) -> None:
        self.log_throttle = log_throttle
        super().__init__(
            app, app_token, logger=logging.getLogger("slack_sdk.socket_mode"), web_client=web_client
        )

    async def open(self) -> None:
        """Ask Slack for a WebSocket URL (failing loudly on a bad token), then connect."""
        try:
            self.client.wss_uri = await self.client.issue_new_wss_url()
        except SlackApiError as err:
            error = err.response.get("error", "unknown error")
            msg = (
                f"Slack refused to open a Socket Mode connection ({error}): check SLACK_APP_TOKEN "
                "(an app-level token with the connections:write scope) and that Socket Mode is on."
            )
            raise SocketModeStartError(msg) from None
        await self.connect_async()  # type: ignore[no-untyped-call]  # Bolt's is untyped

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]  # Bolt's signature
        """Check a command's or payload's shape as over HTTP; a wrong one is acked and dropped."""
        if req.type in {"slash_commands", "interactive"}:
            try:
                check_fields(req.payload)
            except BadSlackRequestError as err:
                log_refusal(err, self.log_throttle)
                # acknowledged all the same, or Slack would send it again
                await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))
                return
        await super().handle(client, req)

    def connected(self) -> bool:
        """True while the WebSocket to Slack is open (the client reconnects by itself)."""
        session = self.client.current_session
        return session is not None and not session.closed and not self.client.closed


async def socket_mode(app: web.Application) -> AsyncIterator[None]:
    """The Socket Mode connection's lifetime (nothing at all in HTTP mode)."""
    runtime = app[RUNTIME]
    token = runtime.settings.slack_app_token
    if not token:
        yield
        return
    if runtime.slack is None:
        msg = "Socket Mode needs the Bolt app and the Slack client"
        raise RuntimeError(msg)
    handler = SocketMode(
        runtime.slack.bolt,
        token,
        web_client=runtime.slack.client,
        log_throttle=runtime.log_throttle,
    )
    try:
        await handler.open()
    except BaseException:
        await handler.close_async()  # type: ignore[no-untyped-call]  # Bolt's is untyped
        raise
    runtime.socket_mode = handler
    runtime.health.slack_socket = handler.connected
    logger.info("connected to Slack over Socket Mode")
    try:
        yield
    finally:
        # stop taking Slack requests first; in-flight sends are waited for afterwards
        await handler.close_async()  # type: ignore[no-untyped-call]  # Bolt's is untyped
        runtime.socket_mode = None
        runtime.health.slack_socket = None
        logger.info("Socket Mode connection closed")
