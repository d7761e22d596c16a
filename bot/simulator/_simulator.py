"""The simulated Mobizon gateway: state, runtime switches and the aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import hmac
import json
import logging
import random
import signal
import sys
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.simulator._form import PhpForm, as_text, decode_php_form, from_json
from bot.simulator._messages import MessageState, SimulatedMessage, plan_timeline
from bot.simulator._methods import Answer, list_messages, report_statuses, validate_send
from bot.simulator._sms import format_timestamp, number_info, segment_count
from bot.simulator._webhooks import WebhookAttempt, WebhookOutbox
from storage.status import DeliveryStatus

logger = logging.getLogger(__name__)

#: The API key of the seed's curl examples; the ``simulator`` command's default key.
DEFAULT_API_KEY = "K" * 40

#: The Message methods the simulator answers, lowercased as in the URL.
SEND_SMS = "sendsmsmessage"
GET_SMS_STATUS = "getsmsstatus"
LIST = "list"
MESSAGE_METHODS = (SEND_SMS, GET_SMS_STATUS, LIST)

#: What every simulated message segment costs (``segUserBuy``).
SEGMENT_PRICE = Decimal("0.0600")

# Query parameters that address the gateway rather than the method.
_RESERVED_QUERY = frozenset({"apiKey", "output", "api"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = "application/json"
# How often, in real seconds, the webhook task looks for messages that became final.
_WEBHOOK_TICK = 0.1
_DEFAULT_MESSAGES = {
    1: "Validation error.",
    2: "Record not found.",
    3: "Application error.",
    8: "failed.api.auth",
    9: "No access to this API method.",
    10: "Error saving data.",
    11: "Required parameters are missing.",
    12: "A parameter violates a limit.",
    13: "Wrong API server for this account.",
    14: "Account blocked.",
    15: "Operation error.",
    30: "Too many requests to this method, slow down.",
    999: "General service error.",
}
_RATE_LIMITED = 30
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated gateway behaves from the start; switches can change it later.

    ``speed`` 1.0 takes about 2 s from sending to the final status; 10.0 is ten times faster.
    The three rates are the chances (0..1, summing to at most 1) that a message ends
    ``UNDELIV``, ``REJECTD`` or ``EXPIRED`` instead of ``DELIVRD``, drawn from ``seed``.
    ``latency`` delays every answer by that many seconds. With ``moderation`` on, campaigns
    wait in moderation before sending. With ``webhook_url`` set, every final status is
    POSTed there as Mobizon's delivery webhook, signed when ``webhook_secret`` is set.
    """

    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
    speed: float = 1.0
    undelivered_rate: float = 0.0
    rejected_rate: float = 0.0
    expired_rate: float = 0.0
    seed: int = 0
    latency: float = 0.0
    moderation: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    first_message_id: int = 6300284
    first_campaign_id: int = 855834
    default_sender: str = "SMSBOT"

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("speed must be above 0")
        rates = (self.undelivered_rate, self.rejected_rate, self.expired_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("outcome rates must be within 0..1 and sum to at most 1")
        if self.latency < 0:
            raise ValueError("latency cannot be negative")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the simulator received, exactly as it came (``query`` holds the API key)."""

    module: str
    method: str
    http_method: str
    query: Mapping[str, str] = field(repr=False)
    body: bytes
    params: PhpForm
    at: datetime


@dataclass(slots=True)
class _TransportFault:
    """A queued failure in front of the gateway: ``kind`` is drop, html or truncate."""

    kind: str
    method: str | None
    remaining: int
    status: int = 502
    close_connection: bool = True


class _RedactingAccessLogger(AbstractAccessLogger):
    """Access log without the query string, which carries the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


class MobizonSimulator:
    """A fake Mobizon gateway for tests, benchmarks and the bot's sandbox mode.

    It answers ``message/sendSmsMessage``, ``message/getSMSStatus`` and ``message/list``
    like the real service (any case of module and method, form or JSON bodies, same envelope,
    numbers as strings, same codes), moves each
    message through ``NEW -> ENQUEUD -> ACCEPTD -> final`` on its own clock, records every
    request, and can be told to misbehave. Serve it with :meth:`make_app`, or use
    :func:`start_simulator`. ``clock`` replaces ``datetime.now`` (naive local time).
    """

    def __init__(
        self,
        config: SimulatorConfig = SimulatorConfig(),
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._config = config
        self._clock = clock or _local_now
        self._offset = timedelta()
        self._outcomes = random.Random(config.seed)
        self._uuids = random.Random(f"uuid-{config.seed}")
        self._next_message_id = config.first_message_id
        self._next_campaign_id = config.first_campaign_id
        #: Every message accepted so far, by message id.
        self.messages: dict[int, SimulatedMessage] = {}
        #: Every request received, oldest first.
        self.requests: list[RecordedRequest] = []
        self._latency: dict[str | None, float] = {None: config.latency}
        self._released = asyncio.Event()  # cleared by hold(): answers wait for release()
        self._released.set()
        self._forced: defaultdict[str, deque[Answer]] = defaultdict(deque)
        self._rate_limited: defaultdict[str, int] = defaultdict(int)
        self._max_per_second: dict[str, float] = {}
        self._recent_calls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._faults: list[_TransportFault] = []
        self._outbox = WebhookOutbox(config.webhook_url, config.webhook_secret)
        self._webhook_since = self.now()
        self._final_queue: list[tuple[datetime, int]] = []
        self._reported: set[int] = set()
        self._session: aiohttp.ClientSession | None = None
        self._wakeup: asyncio.Event | None = None
        self._webhook_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"<MobizonSimulator {len(self.messages)} messages, {len(self.requests)} requests>"

    @property
    def config(self) -> SimulatorConfig:
        """The configuration now in force (switches replace it)."""
        return self._config

    # -- clock and messages ---------------------------------------------------------------

    def now(self) -> datetime:
        """The simulator's current time: the clock plus every :meth:`advance`."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the simulator clock forward, so lifecycles progress without waiting."""
        self._offset += timedelta(seconds=seconds)
        self._wake_webhooks()

    def create_message(
        self,
        recipient: str,
        text: str,
        *,
        sender: str | None = None,
        name: str | None = None,
        validity: int | None = None,
        deferred_to: datetime | None = None,
        mclass: int | None = None,
        shorten_links: int | None = None,
        groups: Sequence[str] = (),
        message_id: int | None = None,
        campaign_id: int | None = None,
        created_at: datetime | None = None,
    ) -> SimulatedMessage:
        """Accept one SMS as ``sendSmsMessage`` does after validation, drawing its outcome.

        Use it to fill the simulator directly (benchmarks, ``groups`` the API cannot set).
        ``message_id``, ``campaign_id`` and ``created_at`` take over a message an earlier run
        of the simulator accepted (the sandbox does, at start): its lifecycle runs from
        ``created_at``, and new messages still get ids above every id taken.
        """
        now = self.now() if created_at is None else created_at
        moderated = self._config.moderation
        moderated_until, timeline = plan_timeline(
            now,
            outcome=self._draw_outcome(),
            speed=self._config.speed,
            moderated=moderated,
            deferred_to=deferred_to,
        )
        country, operator = number_info(recipient)
        if message_id is not None and message_id in self.messages:
            raise ValueError(f"message {message_id} exists already")
        message = SimulatedMessage(
            id=self._next_message_id if message_id is None else message_id,
            campaign_id=self._next_campaign_id if campaign_id is None else campaign_id,
            sender=sender or self._config.default_sender,
            recipient=recipient,
            text=text,
            segments=segment_count(text),
            segment_price=SEGMENT_PRICE,
            groups=",".join(groups) or None,
            uuid=str(uuid.UUID(int=self._uuids.getrandbits(128), version=4)),
            country=country,
            operator=operator,
            name=name,
            created_at=now,
            deferred_to=deferred_to,
            validity=validity,
            mclass=mclass,
            shorten_links=shorten_links,
            moderated_until=moderated_until,
            outcome=timeline[-1][0],
            timeline=timeline,
        )
        # ids are never handed out twice, whoever chose them
        self._next_message_id = max(self._next_message_id, message.id + 1)
        self._next_campaign_id = max(self._next_campaign_id, message.campaign_id + 1)
        self.messages[message.id] = message
        self._queue_final(message)
        return message

    def state(self, message_id: int) -> MessageState:
        """Where a message stands now (``KeyError`` for an unknown id)."""
        return self.messages[message_id].state_at(self.now())

    def set_status(self, message_id: int, status: str, *, at: datetime | None = None) -> None:
        """Force a message to ``status`` from ``at`` (default: now) on; it stays there."""
        message = self.messages[message_id]
        message.force(status, self.now() if at is None else at)
        self._queue_final(message)
        self._wake_webhooks()

    # -- switches -------------------------------------------------------------------------

    def set_latency(self, seconds: float, *, method: str | None = None) -> None:
        """Delay answers by ``seconds``: for one method, or for all without their own delay."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self._latency[_method_name(method) if method else None] = seconds

    def hold(self) -> None:
        """Hold every answer from now on (the request is recorded, not acted on) until released.

        For tests that need Mobizon "still thinking" without sleeping through a latency.
        """
        self._released.clear()

    def release(self) -> None:
        """Let held answers, and later ones, go out."""
        self._released.set()

    def set_moderation(self, on: bool) -> None:
        """Hold campaigns sent from now on in moderation (``status`` 1) or not (``status`` 2)."""
        self._config = replace(self._config, moderation=on)

    def set_speed(self, speed: float) -> None:
        """Change how fast messages sent from now on go through their lifecycle."""
        self._config = replace(self._config, speed=speed)

    def set_outcome_rates(
        self, *, undelivered: float = 0.0, rejected: float = 0.0, expired: float = 0.0
    ) -> None:
        """Change the chances of each failed outcome for messages sent from now on."""
        self._config = replace(
            self._config,
            undelivered_rate=undelivered,
            rejected_rate=rejected,
            expired_rate=expired,
        )

    def fail_next(
        self,
        method: str,
        code: int,
        times: int = 1,
        message: str | None = None,
        data: object = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with error ``code`` (after auth)."""
        text = _DEFAULT_MESSAGES.get(code, "Simulated error.") if message is None else message
        answer = Answer(code, [] if data is None else data, text)
        self._forced[_method_name(method)].extend([answer] * times)

    def rate_limit_next(self, method: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with code 30 (too many requests)."""
        self._rate_limited[_method_name(method)] += times

    def set_rate_limit(self, method: str, per_second: float | None) -> None:
        """Answer code 30 when ``method`` is called more than ``per_second`` times a second."""
        name = _method_name(method)
        if per_second is None:
            self._max_per_second.pop(name, None)
        else:
            self._max_per_second[name] = per_second

    def html_failure_next(
        self, times: int = 1, status: int = 502, *, method: str | None = None
    ) -> None:
        """Answer the next ``times`` requests with an HTML error page and HTTP ``status``."""
        self._add_fault(_TransportFault("html", method, times, status=status))

    def truncate_next(
        self, times: int = 1, *, method: str | None = None, close_connection: bool = True
    ) -> None:
        """Cut the next ``times`` answers in half, after the request took effect.

        With ``close_connection`` the headers promise the whole body and the connection
        closes mid-body; without it, half the JSON arrives as a complete response.
        """
        self._add_fault(
            _TransportFault("truncate", method, times, close_connection=close_connection)
        )

    def drop_connection_next(self, times: int = 1, *, method: str | None = None) -> None:
        """Close the connection without answering the next ``times`` requests (no effect)."""
        self._add_fault(_TransportFault("drop", method, times))

    def configure_webhook(self, url: str | None, secret: str | None = None) -> None:
        """Send delivery webhooks to ``url`` (``None`` stops) for statuses final from now on."""
        self._outbox.url = url
        self._outbox.secret = secret
        self._webhook_since = self.now()
        self._wake_webhooks()

    # -- inspection -----------------------------------------------------------------------

    def count(self, method: str) -> int:
        """How many requests named ``method`` (any case) arrived, whatever their answer."""
        name = method.lower()
        return sum(1 for request in self.requests if request.method == name)

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every webhook POST made so far, oldest first."""
        return self._outbox.attempts

    async def deliver_webhooks_now(self) -> int:
        """Send every pending webhook event at once, retries included; return how many 2xx.

        Needs the application running (its client session lives with it).
        """
        if self._session is None:
            raise RuntimeError("the simulator app is not running")
        return await self._webhook_round(everything=True)

    # -- the application ------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """Build the aiohttp application; it runs the webhook sender while it is up."""
        app = web.Application()
        app.router.add_route("*", "/service/{module}/{method}", self._handle)
        app.cleanup_ctx.append(self._webhook_lifetime)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # any case, as Mobizon serves both message/sendsmsmessage and Message/SendSmsMessage
        module = request.match_info["module"].lower()
        method = request.match_info["method"].lower()
        body = await request.read()
        query, params = _read_parameters(request, body)
        self.requests.append(
            RecordedRequest(module, method, request.method, query, body, params, self.now())
        )
        delay = self._latency.get(method, self._latency[None])
        if delay > 0:
            await asyncio.sleep(delay)
        await self._released.wait()
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        if fault is not None and fault.kind == "html":
            return _html_error(fault.status)
        answer = self._answer(module, method, query, params)
        payload = json.dumps(answer.envelope()).encode()
        if fault is not None:
            return await _truncated(request, payload, close_connection=fault.close_connection)
        return web.Response(body=payload, content_type="application/json", charset="utf-8")

    def _refusal(self, module: str, method: str, query: Mapping[str, str]) -> Answer | None:
        """The error answer due before a method runs (address, key, switches), if any."""
        refusal: Answer | None = None
        if module != "message":
            refusal = Answer(4, [], f"Unknown module {module!r}.")
        elif method not in MESSAGE_METHODS:
            refusal = Answer(5, [], f"Unknown method {method!r}.")
        elif query.get("output", "json").lower() != "json":
            refusal = Answer(6, [], "Only output=json is simulated.")
        elif not hmac.compare_digest(
            query.get("apiKey", "").encode(), self._config.api_key.encode()
        ):
            refusal = Answer(8, [], _DEFAULT_MESSAGES[8])
        elif self._forced[method]:
            refusal = self._forced[method].popleft()
        elif self._over_rate_limit(method):
            refusal = Answer(_RATE_LIMITED, [], _DEFAULT_MESSAGES[_RATE_LIMITED])
        return refusal

    def _answer(
        self, module: str, method: str, query: Mapping[str, str], params: PhpForm
    ) -> Answer:
        refusal = self._refusal(module, method, query)
        if refusal is not None:
            return refusal
        now = self.now()
        if method == GET_SMS_STATUS:
            return report_statuses(params, self.messages, now)
        if method == LIST:
            return list_messages(params, self.messages, now)
        order = validate_send(params, now)
        if isinstance(order, Answer):
            return order
        message = self.create_message(
            order.recipient,
            order.text,
            sender=order.sender,
            name=order.name,
            validity=order.validity,
            deferred_to=order.deferred_to,
            mclass=order.mclass,
            shorten_links=order.shorten_links,
        )
        campaign_status = 1 if message.moderated_until is not None else 2
        return Answer(
            0,
            {
                "campaignId": str(message.campaign_id),
                "messageId": str(message.id),
                "status": campaign_status,
            },
        )

    def _over_rate_limit(self, method: str) -> bool:
        if self._rate_limited[method] > 0:
            self._rate_limited[method] -= 1
            return True
        limit = self._max_per_second.get(method)
        if limit is None:
            return False
        now = asyncio.get_running_loop().time()
        recent = self._recent_calls[method]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= limit:
            return True
        recent.append(now)
        return False

    def _add_fault(self, fault: _TransportFault) -> None:
        if fault.method is not None:
            fault.method = _method_name(fault.method)
        self._faults.append(fault)

    def _take_fault(self, method: str) -> _TransportFault | None:
        for fault in self._faults:
            if fault.method in {None, method}:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _draw_outcome(self) -> str:
        draw = self._outcomes.random()
        config = self._config
        for status, rate in (
            (DeliveryStatus.UNDELIV, config.undelivered_rate),
            (DeliveryStatus.REJECTD, config.rejected_rate),
            (DeliveryStatus.EXPIRED, config.expired_rate),
        ):
            if draw < rate:
                return status.value
            draw -= rate
        return DeliveryStatus.DELIVRD.value

    # -- webhooks -------------------------------------------------------------------------

    async def _webhook_lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        if self._session is not None:
            raise RuntimeError("this simulator is already being served")
        self._session = aiohttp.ClientSession()
        self._wakeup = asyncio.Event()
        self._webhook_lock = asyncio.Lock()
        sender = asyncio.create_task(self._send_webhooks_forever())
        try:
            yield
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            await self._session.close()
            self._session = None

    async def _send_webhooks_forever(self) -> None:
        while True:
            try:
                await self._webhook_round(everything=False)
            except Exception:
                logger.exception("simulated webhook round failed")
            if self._wakeup is not None:
                with contextlib.suppress(TimeoutError):  # not wait_for: see Notifier.run
                    async with asyncio.timeout(_WEBHOOK_TICK):
                        await self._wakeup.wait()
                self._wakeup.clear()

    async def _webhook_round(self, *, everything: bool) -> int:
        session, lock = self._session, self._webhook_lock
        if session is None or lock is None:
            return 0
        async with lock:
            self._collect_final()
            return await self._outbox.send_due(
                session,
                now=self.now(),
                loop_time=asyncio.get_running_loop().time(),
                speed=self._config.speed,
                everything=everything,
            )

    def _queue_final(self, message: SimulatedMessage) -> None:
        final_at = message.final_at
        if final_at is not None and message.id not in self._reported:
            heapq.heappush(self._final_queue, (final_at, message.id))

    def _collect_final(self) -> None:
        """Turn messages that reached a final status since the last look into events."""
        if self._outbox.url is None:
            return
        now = self.now()
        while self._final_queue and self._final_queue[0][0] <= now:
            final_at, message_id = heapq.heappop(self._final_queue)
            message = self.messages[message_id]
            # Entries go stale when set_status rewrote the timeline; one report per message.
            if message.final_at != final_at or message_id in self._reported:
                continue
            self._reported.add(message_id)
            if final_at < self._webhook_since:
                continue
            state = message.state_at(now)
            data: dict[str, object] = {
                "campaignId": message.campaign_id,
                "messageId": message.id,
                "segNum": message.segments,
                "statusUpdateTs": format_timestamp(state.status_updated_at),
                "status": state.status,
                "to": message.recipient,
            }
            self._outbox.add(data, format_timestamp(now) or "")

    def _wake_webhooks(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()


async def start_simulator(
    config: SimulatorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> tuple[MobizonSimulator, web.AppRunner, str]:
    """Serve a new simulator on ``host:port`` (0: any free port).

    Returns the simulator, the runner (the caller awaits ``runner.cleanup()``) and the
    base URL, e.g. ``http://127.0.0.1:40123``.
    """
    simulator = MobizonSimulator(config, clock=clock)
    runner = web.AppRunner(simulator.make_app(), access_log_class=_RedactingAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return simulator, runner, f"http://{shown_host}:{bound_port}"


def run(host: str, port: int, config: SimulatorConfig) -> None:
    """Serve the simulator until SIGINT or SIGTERM; print one line with its URL and key."""
    asyncio.run(_serve(host, port, config))


async def _serve(host: str, port: int, config: SimulatorConfig) -> None:
    _simulator, runner, url = await start_simulator(config, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        sys.stdout.write(f"Mobizon simulator on {url} (API key {config.api_key})\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()


def _read_parameters(request: web.Request, body: bytes) -> tuple[dict[str, str], PhpForm]:
    """The gateway's own parameters (key, output, api) and the method's, from query and body.

    The body is a PHP form or, as some published clients send it, a JSON object; the
    gateway's parameters may come in either, the query's winning.
    """
    params = decode_php_form(request.query_string)
    text = body.decode("utf-8", errors="replace")
    if request.content_type == _FORM_TYPE:
        params.update(decode_php_form(text))
    elif request.content_type == _JSON_TYPE:
        # like PHP with a body it cannot read: no parameters from it
        with contextlib.suppress(json.JSONDecodeError):
            params.update(from_json(json.loads(text)))
    query = {key: request.query[key] for key in request.query}
    for reserved in _RESERVED_QUERY:
        value = as_text(params.pop(reserved, None))
        if value is not None:
            query.setdefault(reserved, value)
    return query, params


def _method_name(method: str) -> str:
    name = method.lower()
    if name not in MESSAGE_METHODS:
        raise ValueError(f"unknown Message method {method!r}; one of {MESSAGE_METHODS}")
    return name


def _local_now() -> datetime:
    return datetime.now()  # noqa: DTZ005 - Mobizon's timestamps are naive local time


def _html_error(status: int) -> web.Response:
    reason = web.Response(status=status).reason
    return web.Response(
        status=status,
        text=_HTML_PAGE.format(status=status, reason=reason),
        content_type="text/html",
    )


async def _truncated(
    request: web.Request, payload: bytes, *, close_connection: bool
) -> web.StreamResponse:
    half = payload[: len(payload) // 2]
    if not close_connection:
        return web.Response(body=half, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(half)
    if request.transport is not None:
        request.transport.close()
    return response
