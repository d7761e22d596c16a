"""The framework's floor for ``ack.py``: a bare Bolt ``AsyncApp`` whose ``/sms`` only acks.

Same framework, adapter and signature check as smsbot, nothing else. Reads ``PORT``,
``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and ``SLACK_API_URL`` from the environment and
serves ``POST /slack/events`` and ``GET /healthz`` on 127.0.0.1. ``_floor_claim.py`` is the same
app with a claim before the ack, built from the pieces here.
"""

from __future__ import annotations

import os

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient


def bolt_app(*, process_before_response: bool = False) -> AsyncApp:
    """A Bolt app on the environment's token, Slack API and signing secret."""
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    return AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=process_before_response,
    )


def served(app: AsyncApp) -> web.Application:
    """``app`` on ``POST /slack/events``, with the ``GET /healthz`` the benchmarks wait for."""
    web_app = app.web_app(path="/slack/events", port=int(os.environ["PORT"]))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)
    return web_app


def run(web_app: web.Application) -> None:
    """Serve ``web_app`` on 127.0.0.1 at ``PORT`` until stopped."""
    # the listen backlog smsbot serve uses (bot/cli.py: LISTEN_BACKLOG): with aiohttp's default
    # (128) a burst of 500 overflows the floor's accept queue, and the dropped connections,
    # retried by the client's kernel 1 s later, make the floor's p99 look a second slower
    web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None, backlog=1024)


def build() -> web.Application:
    """The bare app: one command listener that only calls ``ack()``."""
    app = bolt_app()

    @app.command("/sms")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    return served(app)


if __name__ == "__main__":
    run(build())
