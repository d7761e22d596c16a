"""The app factory: one aiohttp server with Bolt, the Mobizon webhook and health, and their lifetimes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlite_utils import Database

from bot.delivery.tracking import delivery_tracking
from bot.delivery.webhook import make_handler
from bot.mobizon.client import MobizonClient
from bot.runtime import RUNTIME, Runtime
from bot.settings import Settings
from bot.simulator import SimulatorConfig, start_simulator
from handlers import register_listeners
from handlers.context import Services
from storage.schema import open_database

logger = logging.getLogger(__name__)

SANDBOX_SPEED = 5.0


def make_slack_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The Slack Web API client: the configured base URL, with Slack's rate-limit retries."""
    client = AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, session=session
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def make_bolt_app(settings: Settings, client: AsyncWebClient, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered; request signing stays verified."""
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        logger=logging.getLogger("slack_bolt"),
        request_verification_enabled=True,
        raise_error_for_unhandled_request=False,
    )
    register_listeners(app, services)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    runtime.db = open_database(runtime.settings.db_path)
    yield
    runtime.db.close()
    runtime.db = None


async def _gateway(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    settings = runtime.settings
    runner: web.AppRunner | None = None
    if settings.sandbox:
        config = SimulatorConfig(speed=SANDBOX_SPEED)
        runtime.simulator, runner, url = await start_simulator(config)
        runtime.gateway = MobizonClient(config.api_key, base_url=url)
        logger.warning(
            "SANDBOX MODE: no MOBIZON_API_KEY is set, so SMS go to the built-in Mobizon "
            "simulator and nothing is sent for real."
        )
    else:
        runtime.gateway = MobizonClient(
            settings.mobizon_api_key or "", base_url=settings.mobizon_api_url
        )
    async with runtime.gateway:
        yield
    if runner is not None:
        await runner.cleanup()
    runtime.gateway = None


async def _slack(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    async with aiohttp.ClientSession() as session:
        runtime.slack = make_slack_client(runtime.settings, session)
        runtime.bolt = make_bolt_app(runtime.settings, runtime.slack, runtime.services())
        yield
        runtime.bolt = None
        runtime.slack = None


async def slack_events(request: web.Request) -> web.StreamResponse:
    """``POST /slack/events``: hand the request to Bolt, which verifies its signature."""
    bolt = request.app[RUNTIME].bolt
    if bolt is None:
        raise web.HTTPServiceUnavailable(text="smsbot is starting")
    response = await bolt.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(response)


async def healthz(request: web.Request) -> web.StreamResponse:
    """``GET /healthz``: 200 once the database is open and the scheduler runs."""
    runtime = request.app[RUNTIME]
    checks: dict[str, bool] = {"database": runtime.db is not None}
    for name, probe in runtime.extras.get("health", {}).items():
        checks[name] = bool(probe())
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "starting",
        "sandbox": runtime.settings.sandbox,
        **checks,
    }
    return web.json_response(body, status=200 if healthy else 503)


def _db(runtime: Runtime) -> Database:
    if runtime.db is None:
        raise web.HTTPServiceUnavailable(text="smsbot is starting")
    return runtime.db


Lifetime = Callable[[web.Application], AsyncIterator[None]]


def create_app(
    settings: Settings, *, extra_lifetimes: tuple[Lifetime, ...] = ()
) -> web.Application:
    """Build the aiohttp application: routes plus resources opened and closed with it."""
    app = web.Application()
    runtime = Runtime(settings=settings)
    app[RUNTIME] = runtime
    app.cleanup_ctx.extend([_database, _gateway, _slack, delivery_tracking, *extra_lifetimes])
    app.router.add_post("/slack/events", slack_events)
    app.router.add_post(
        "/mobizon/webhook",
        make_handler(lambda: _db(runtime), settings.mobizon_webhook_secret, runtime.wake_notifier),
    )
    app.router.add_get("/healthz", healthz)
    return app
