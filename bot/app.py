"""The app factory: one aiohttp server (Bolt, Mobizon webhook, health, metrics), its lifetimes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.tracking import delivery_tracking
from bot.delivery.webhook import make_handler
from bot.logs import bind_log_context
from bot.metrics import METRICS, metrics_handler
from bot.mobizon.client import MobizonClient
from bot.runtime import RUNTIME, Runtime
from bot.settings import Settings
from bot.simulator import SimulatorConfig, start_simulator
from bot.socket_mode import socket_mode
from handlers import register_listeners
from handlers.context import Services
from storage import delivery, messages
from storage.store import Store

logger = logging.getLogger(__name__)

SANDBOX_SPEED = 5.0
#: How long shutdown waits for sends in flight (Mobizon's own timeout is 20 s).
INFLIGHT_DEADLINE = 25.0


def make_slack_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The Slack Web API client: the configured base URL, with Slack's rate-limit retries only.

    slack_sdk's default handler also retries dropped connections, which could post the SMS's
    channel message twice after Slack had taken it; a 429 is safe to retry (nothing was done).
    """
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


class _NoTokenSkippedWarning(logging.Filter):
    """Drop Bolt's start-up warning that SLACK_BOT_TOKEN is unused: our client carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("slack_bolt")
_BOLT_LOGGER.addFilter(_NoTokenSkippedWarning())


def make_bolt_app(settings: Settings, client: AsyncWebClient, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered; request signing stays verified."""
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        logger=_BOLT_LOGGER,
        request_verification_enabled=True,
        raise_error_for_unhandled_request=False,
    )
    app.middleware(_log_fields)
    register_listeners(app, services)
    return app


async def _log_fields(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:  # noqa: A002  # Bolt passes it by this name
    """Every log line of a Slack request (and of its listener task) names its channel and user."""
    bind_log_context(channel=context.channel_id, user=context.user_id)
    await next()


async def _database(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    # every SQLite call runs on the store's threads, never on the event loop
    runtime.store = await Store.open(runtime.settings.db_path)
    yield
    await runtime.store.close()
    runtime.store = None
    logger.info("database closed")


async def _gateway(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    settings = runtime.settings
    runner: web.AppRunner | None = None
    if settings.sandbox:
        config = SimulatorConfig(speed=SANDBOX_SPEED)
        runtime.simulator, runner, url = await start_simulator(config)
        runtime.gateway = MobizonClient(
            config.api_key, base_url=url, on_request=runtime.metrics.gateway_request
        )
        logger.warning(
            "SANDBOX MODE: no MOBIZON_API_KEY is set, so SMS go to the built-in Mobizon "
            "simulator and nothing is sent for real."
        )
    else:
        runtime.gateway = MobizonClient(
            settings.mobizon_api_key or "",
            base_url=settings.mobizon_api_url,
            on_request=runtime.metrics.gateway_request,
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


async def _inflight(app: web.Application) -> AsyncIterator[None]:
    """On shutdown (requests no longer taken), let the sends in flight finish, within a deadline."""
    yield
    runtime = app[RUNTIME]
    pending = [task for task in runtime.inflight if not task.done()]
    if not pending:
        return
    logger.info("waiting for sends in flight", extra={"count": len(pending)})
    _, late = await asyncio.wait(pending, timeout=INFLIGHT_DEADLINE)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=1.0)
        logger.warning(
            "sends still in flight at the shutdown deadline were cancelled",
            extra={"count": len(late)},
        )


async def healthz(request: web.Request) -> web.StreamResponse:
    """``GET /healthz``: 200 once the database is open and the scheduler runs."""
    runtime = request.app[RUNTIME]
    checks: dict[str, bool] = {"database": runtime.store is not None}
    for name, probe in runtime.extras.get("health", {}).items():
        checks[name] = bool(probe())
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "starting",
        "sandbox": runtime.settings.sandbox,
        **checks,
    }
    return web.json_response(body, status=200 if healthy else 503)


def _store(runtime: Runtime) -> Store:
    if runtime.store is None:
        raise web.HTTPServiceUnavailable(text="smsbot is starting")
    return runtime.store


async def _database_gauges(runtime: Runtime) -> tuple[int, int]:
    """The outbox size and the pending count, read off the event loop (0 while closed)."""
    store = runtime.store
    if store is None:
        return 0, 0
    return await store.read(delivery.outbox_size), await store.read(messages.count_pending)


Lifetime = Callable[[web.Application], AsyncIterator[None]]


def create_app(
    settings: Settings, *, extra_lifetimes: tuple[Lifetime, ...] = ()
) -> web.Application:
    """Build the aiohttp application: routes plus resources opened and closed with it."""
    app = web.Application()
    runtime = Runtime(settings=settings)
    app[RUNTIME] = runtime
    app[METRICS] = runtime.metrics
    runtime.metrics.watch_database(lambda: _database_gauges(runtime))
    # closed in reverse: Socket Mode stops taking requests, sends in flight finish, the outbox
    # is flushed, then Slack's session, the gateway and the database close
    app.cleanup_ctx.extend(
        [
            _database,
            _gateway,
            _slack,
            delivery_tracking,
            _inflight,
            socket_mode,
            *extra_lifetimes,
        ]
    )
    if not settings.socket_mode:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_post(
        "/mobizon/webhook",
        make_handler(
            lambda: _store(runtime), settings.mobizon_webhook_secret, runtime.wake_notifier
        ),
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    return app
