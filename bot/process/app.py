"""The app factory: one aiohttp server (Bolt, Mobizon webhook, health, metrics), its lifetimes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import MobizonClient, parse_timestamp
from bot.process.logs import bind_log_context
from bot.process.metrics import METRICS, metrics_handler
from bot.process.quiet import REQUESTS, counting_requests
from bot.process.runtime import RUNTIME, Core, Runtime, SlackSide
from bot.process.settings import Settings
from bot.process.slack_client import make_slack_client
from bot.process.slack_requests import BadSlackRequestError, refusal, to_bolt_request
from bot.process.socket_mode import socket_mode
from bot.process.tracking import delivery_tracking
from bot.simulator import MobizonSimulator, SimulatorConfig, start_simulator, state_beside
from bot.sms.delivery.webhook import make_handler
from handlers.context import Services
from handlers.middleware import RequestStep
from handlers.registry import register_listeners
from storage import messages, outbox, replicas
from storage.records import SmsRecord
from storage.store import Store

logger = logging.getLogger(__name__)
#: The logger of the sandbox's start-up warning (the console says the same in its own banner).
SANDBOX_LOGGER = "bot.sandbox"

#: At 1.0 a simulated SMS takes about 2 s from sending to its final status, so its Mobizon
#: times (sent, updated) differ by seconds, as a real delivery's do.
SANDBOX_SPEED = 1.0
#: How long shutdown waits for sends in flight (each Mobizon call ends within 15 s of getting
#: its connection; sends still queued for one past this are cut, their senders told by settling).
INFLIGHT_DEADLINE = 25.0
#: Seconds a request's body may take to arrive once its headers have: Slack's and Mobizon's are
#: small and come at once (Slack wants its answer within 3 s); a slower one holds a connection.
BODY_READ_TIMEOUT = 5.0


class _NoTokenSkippedWarning(logging.Filter):
    """Drop Bolt's start-up warning that SLACK_BOT_TOKEN is unused: our client carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("slack_bolt")
_BOLT_LOGGER.addFilter(_NoTokenSkippedWarning())


def make_bolt_app(settings: Settings, client: AsyncWebClient, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered.

    Request signing is verified once, before Bolt (:func:`slack_events`, with
    :func:`bot.process.slack_requests.verify_signature`: the same 5-minute window, over the raw
    bytes): Bolt's own check of the same signature would only repeat it on every request. The
    only other way in is Socket Mode, where Slack signs nothing and Bolt checks nothing.
    """
    app = AsyncApp(
        # named here: Bolt otherwise names the app after its caller's file, from inspect.stack(),
        # which reads the source of every frame on the stack (tens of milliseconds at start)
        name="smsbot",
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        logger=_BOLT_LOGGER,
        request_verification_enabled=False,
        # the request's answer goes out as its listener returns (at its ack: the one listener
        # wrapper, handlers.errors.reporting_errors, returns there and lets the rest run on),
        # not once Bolt's runner, waking every 10 ms, sees the ack
        process_before_response=True,
        # a request no listener takes goes to our error handler: Bolt's own warning quotes ids
        # and typed values from the payload
        raise_error_for_unhandled_request=True,
    )
    app.middleware(_LogFields())
    register_listeners(app, services)
    return app


class _LogFields(RequestStep):
    """Every log line of a Slack request (and of its listener task) names its channel and user."""

    async def before(self, req: AsyncBoltRequest) -> None:
        """The request's channel and user bound to its log lines."""
        bind_log_context(channel=req.context.channel_id, user=req.context.user_id)


#: How the Mobizon client waits between the tries of a call, when an app is given one before it
#: starts (the default is ``asyncio.sleep``): tests give one that skips the back-off's waits.
GATEWAY_SLEEP = web.AppKey[Callable[[float], Awaitable[None]]]("gateway_sleep")


async def _core(app: web.Application) -> AsyncIterator[None]:
    """Open the database, then the gateway (the simulator first in sandbox mode), as one Core."""
    runtime = app[RUNTIME]
    # every SQLite call runs on the store's threads, never on the event loop
    store = await Store.open(runtime.settings.database)
    try:
        await runtime.register_replica(store)
        gateway, simulator, runner = await _open_gateway(
            runtime, store, sleep=app.get(GATEWAY_SLEEP, asyncio.sleep)
        )
        try:
            async with gateway:
                runtime.core = Core(store, gateway, simulator)
                try:
                    yield
                finally:
                    runtime.core = None
        finally:
            if runner is not None:
                await runner.cleanup()
    finally:
        try:
            await store.write(replicas.deregister, runtime.replica_id)
        except Exception:  # noqa: BLE001  # its heartbeat stops all the same: the lease runs out
            logger.warning("could not deregister this replica; its lease runs out instead")
        await store.close()
        logger.info("database closed")


async def _open_gateway(
    runtime: Runtime, store: Store, *, sleep: Callable[[float], Awaitable[None]]
) -> tuple[MobizonClient, MobizonSimulator | None, web.AppRunner | None]:
    """The Mobizon client; in sandbox mode, against a simulator started here (and its runner).

    ``sleep`` is how the client waits between the tries of a call.
    """
    settings = runtime.settings
    if not settings.sandbox:
        client = MobizonClient(
            settings.mobizon_api_key or "",
            base_url=settings.mobizon_api_url,
            on_request=runtime.metrics.gateway_request,
            timezone=settings.mobizon_timezone,
            sleep=sleep,
        )
        return client, None, None
    config = sandbox_config(*await store.read(messages.highest_ids))
    zone = settings.mobizon_timezone
    # its messages, campaigns and balance live on beside the database, for the next run
    simulator, runner, url = await start_simulator(
        config,
        clock=lambda: datetime.now(zone).replace(tzinfo=None),
        state_path=state_beside(settings.db_path),
        timezone=zone,
    )
    earlier = await store.read(messages.pending_sandbox)
    adopted = adopt_earlier_sandbox_sms(simulator, earlier, zone)
    client = MobizonClient(
        config.api_key,
        base_url=url,
        on_request=runtime.metrics.gateway_request,
        timezone=zone,
        sleep=sleep,
    )
    logging.getLogger(SANDBOX_LOGGER).warning(
        "SANDBOX MODE: SMS go to the built-in Mobizon simulator and nothing is sent for real%s",
        " (MOBIZON_API_KEY is set but ignored)." if settings.ignored_api_key else ".",
        extra={"first_message_id": config.first_message_id, "resumed": adopted},
    )
    return client, simulator, runner


def sandbox_config(last_message: int | None, last_campaign: int | None) -> SimulatorConfig:
    """The sandbox simulator's set-up: its ids start above every id the database holds.

    A simulator's state file may be gone while the database keeps its SMS: a new run reusing
    their ids would attach its SMS's statuses to the earlier ones.
    """
    default = SimulatorConfig(speed=SANDBOX_SPEED)
    return replace(
        default,
        first_message_id=max(default.first_message_id, (last_message or 0) + 1),
        first_campaign_id=max(default.first_campaign_id, (last_campaign or 0) + 1),
    )


def adopt_earlier_sandbox_sms(
    simulator: MobizonSimulator, earlier: Sequence[SmsRecord], zone: tzinfo
) -> int:
    """Give a sandbox simulator the pending SMS its state file lacks; return how many.

    Each resumes its simulated lifecycle from the moment it was sent, so it reaches a final
    status (at once, when it is older than a lifecycle) and its channel is told as usual.
    """
    adopted = 0
    for sms in earlier:
        if sms.message_id is None or sms.message_id in simulator.messages:
            continue
        sent_at = sms.sent_at or sms.created_at
        simulator.create_message(
            sms.recipient,
            sms.text,
            sender=sms.sender,
            name=sms.name,
            validity=sms.validity,
            deferred_to=_wall_time(sms.deferred_to),
            mclass=0 if sms.flash else None,
            message_id=sms.message_id,
            campaign_id=sms.campaign_id,
            # the simulator's clock is naive wall time in the account's zone, like Mobizon's
            created_at=sent_at.astimezone(zone).replace(tzinfo=None),
        )
        adopted += 1
    return adopted


def _wall_time(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


async def _slack(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    async with aiohttp.ClientSession() as session:
        client = make_slack_client(runtime.settings, session)
        runtime.slack = SlackSide(
            client, make_bolt_app(runtime.settings, client, runtime.services())
        )
        try:
            yield
        finally:
            runtime.slack = None
            await runtime.people_languages().close()


async def slack_events(request: web.Request) -> web.StreamResponse:
    """``POST /slack/events``: verify Slack's signature, read the body, then hand it to Bolt."""
    runtime = request.app[RUNTIME]
    if runtime.slack is None:
        raise web.HTTPServiceUnavailable(text="smsbot is starting")
    bolt = runtime.slack.bolt
    try:
        bolt_request = await to_bolt_request(request, runtime.settings.slack_signing_secret or "")
    except BadSlackRequestError as err:
        return refusal(err, runtime.log_throttle)
    response = await bolt.async_dispatch(bolt_request)
    return await to_aiohttp_response(response)


@web.middleware
async def read_body_in_time(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Read every request's body within :data:`BODY_READ_TIMEOUT` before its handler runs.

    aiohttp waits for a body as long as it trickles in: one that does not arrive in time is
    answered 408 and its connection closed. A body declared too large is left to the handler's
    own refusal, unread.
    """
    # a body that came whole with the headers (as Slack's small ones do) needs no timer
    if request.content.is_eof():
        return await handler(request)
    declared = request.content_length
    if request.body_exists and (declared is None or declared <= request.client_max_size):
        try:
            async with asyncio.timeout(BODY_READ_TIMEOUT):
                await request.read()  # kept by aiohttp: the handler's read() returns it
        except TimeoutError:
            return await _body_too_slow(request)
    return await handler(request)


async def _body_too_slow(request: web.Request) -> web.StreamResponse:
    """Answer 408, then close the connection (aiohttp would otherwise linger over the body)."""
    dropped = request.app[RUNTIME].log_throttle.admit("slow body")
    if dropped is not None:
        fields = {"seconds": BODY_READ_TIMEOUT, **({"suppressed": dropped} if dropped else {})}
        logger.warning("request body not received in time; connection closed", extra=fields)
    response = web.json_response({"ok": False, "error": "the body took too long"}, status=408)
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # the answer is written; the rest of the body is not awaited
    return response


async def _inflight(app: web.Application) -> AsyncIterator[None]:
    """On shutdown (requests no longer taken), let the sends in flight finish, within a deadline.

    A send finished no longer waits for its channel post: the outbox's flush (or the next start)
    makes it, and its sender hears it comes later.
    """
    yield
    runtime = app[RUNTIME]
    if runtime.tracking is not None:
        runtime.tracking.notifier.first_posts.release()
    await runtime.inflight.wait(INFLIGHT_DEADLINE)


async def healthz(request: web.Request) -> web.StreamResponse:
    """``GET /healthz``: 200 once the database is open and the scheduler runs."""
    runtime = request.app[RUNTIME]
    checks = {"database": runtime.core is not None, **runtime.health.checks()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "starting",
        "sandbox": runtime.settings.sandbox,
        "engine": runtime.settings.database.engine,
        **checks,
    }
    return web.json_response(body, status=200 if healthy else 503)


def _store(runtime: Runtime) -> Store:
    if runtime.core is None:
        raise web.HTTPServiceUnavailable(text="smsbot is starting")
    return runtime.core.store


async def _database_gauges(runtime: Runtime) -> tuple[int, int]:
    """The outbox size and the pending count, read off the event loop (0 while closed)."""
    if runtime.core is None:
        return 0, 0
    store = runtime.core.store
    return await store.read(outbox.outbox_size), await store.read(messages.count_pending)


Lifetime = Callable[[web.Application], AsyncIterator[None]]


def create_app(
    settings: Settings, *, extra_lifetimes: tuple[Lifetime, ...] = ()
) -> web.Application:
    """Build the aiohttp application: routes plus resources opened and closed with it."""
    app = web.Application(middlewares=[counting_requests, read_body_in_time])
    runtime = Runtime(settings=settings)
    app[REQUESTS] = runtime.requests
    app[RUNTIME] = runtime
    app[METRICS] = runtime.metrics
    runtime.metrics.watch_database(lambda: _database_gauges(runtime))
    # closed in reverse: Socket Mode stops taking requests, sends in flight finish, the outbox
    # is flushed, then Slack's session, the gateway and the database close
    app.cleanup_ctx.extend(
        [
            _core,
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
            lambda: _store(runtime),
            settings.mobizon_webhook_secret,
            runtime.wake_notifier,
            clock=lambda: runtime.clock.now(),  # noqa: PLW0108  # read at each call: tests replace it
            sandbox=settings.sandbox,
        ),
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    return app
