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

from bot.simulator._account import (
    balance_answer,
    campaign_id_of,
    campaign_info,
    delete_refusal,
    not_found,
    sender_names_answer,
    shorten_links,
)
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

#: The account-level methods the simulator answers, as ``module/method`` lowercased.
GET_BALANCE = "user/getownbalance"
SENDER_NAMES = "alphaname/list"
CAMPAIGN_INFO = "campaign/getinfo"
CAMPAIGN_DELETE = "campaign/delete"
ACCOUNT_METHODS = (GET_BALANCE, SENDER_NAMES, CAMPAIGN_INFO, CAMPAIGN_DELETE)
_MODULES: dict[str, tuple[str, ...]] = {"message": MESSAGE_METHODS}
for _name in ACCOUNT_METHODS:
    _module, _method = _name.split("/")
    _MODULES[_module] = (*_MODULES.get(_module, ()), _method)

#: What every simulated message segment costs (``segUserBuy``) unless configured otherwise.
SEGMENT_PRICE = Decimal("0.0600")
#: What the simulated sendSmsMessage answers when the balance cannot pay for the SMS.
#: Mobizon documents no distinct code for it: code 1 (validation) with these words is a guess.
INSUFFICIENT_FUNDS_CODE = 1
INSUFFICIENT_FUNDS_MESSAGE = "Insufficient funds on the balance to send the message."
_SHORT_CODE_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

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
    wait in moderation before sending: ``moderation_seconds`` (at speed 1; ``None``: until
    :meth:`MobizonSimulator.moderate` decides), then approved, or declined with
    ``decline_comment`` when that is set. With ``webhook_url`` set, every final status is
    POSTed there as Mobizon's delivery webhook, signed when ``webhook_secret`` is set.

    The account: ``balance`` in ``currency`` to start with, each segment costing
    ``segment_price`` (taken when a send is accepted, given back when its campaign is deleted
    or declined; a send the balance cannot pay for is refused with
    ``insufficient_funds_code`` and ``insufficient_funds_message``), ``sender_names`` (the
    first is the default) for ``alphaname/list``, and ``short_link_base`` for the links
    ``params[shortenLinks]=1`` makes.
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
    moderation_seconds: float | None = 1.0
    decline_comment: str | None = None
    balance: Decimal = Decimal("10000.0000")
    currency: str = "BRL"
    segment_price: Decimal = SEGMENT_PRICE
    sender_names: tuple[str, ...] = ("SMSBOT",)
    short_link_base: str = "https://mbz.io"
    insufficient_funds_code: int = INSUFFICIENT_FUNDS_CODE
    insufficient_funds_message: str = INSUFFICIENT_FUNDS_MESSAGE

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("speed must be above 0")
        rates = (self.undelivered_rate, self.rejected_rate, self.expired_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("outcome rates must be within 0..1 and sum to at most 1")
        if self.latency < 0:
            raise ValueError("latency cannot be negative")
        if self.moderation_seconds is not None and self.moderation_seconds < 0:
            raise ValueError("moderation_seconds cannot be negative")
        if self.segment_price < 0:
            raise ValueError("segment_price cannot be negative")
        if self.insufficient_funds_code == 0:
            raise ValueError("insufficient_funds_code must be an error code, not 0")


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
        self._campaigns: dict[int, int] = {}
        self._balance_base = config.balance
        self._charged = Decimal(0)
        self._refunded: set[int] = set()
        self._refunds_due: list[tuple[datetime, int]] = []
        self._links = random.Random(f"links-{config.seed}")
        #: Every short link made by ``params[shortenLinks]=1``: short URL -> original link.
        self.short_links: dict[str, str] = {}
        self._created = self.now()

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
        config = self._config
        moderated = config.moderation
        declined = config.decline_comment is not None
        moderated_until, timeline = plan_timeline(
            now,
            outcome=(outcome := self._draw_outcome()),
            speed=config.speed,
            moderated=moderated,
            deferred_to=deferred_to,
            moderation_seconds=config.moderation_seconds,
            declined=declined,
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
            segment_price=config.segment_price,
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
            outcome=outcome,
            timeline=timeline,
            moderation=moderated,
            declined=moderated and declined,
            global_comment=config.decline_comment if moderated else None,
            speed=config.speed,
        )
        # ids are never handed out twice, whoever chose them
        self._next_message_id = max(self._next_message_id, message.id + 1)
        self._next_campaign_id = max(self._next_campaign_id, message.campaign_id + 1)
        self.messages[message.id] = message
        self._campaigns[message.campaign_id] = message.id
        self._charged += message.cost
        if message.declined and moderated_until is not None:
            heapq.heappush(self._refunds_due, (moderated_until, message.id))
        self._queue_final(message)
        return message

    def campaign(self, campaign_id: int) -> SimulatedMessage:
        """The message of a (single-message) campaign (``KeyError`` for an unknown id)."""
        return self.messages[self._campaigns[campaign_id]]

    @property
    def balance(self) -> Decimal:
        """What is left on the simulated account now."""
        self._settle_refunds()
        return self._balance_base - self._charged

    def set_balance(self, amount: Decimal | int | str) -> None:
        """Set the account's balance to ``amount`` now; sends from then on spend from it."""
        self._settle_refunds()
        self._balance_base = Decimal(amount) + self._charged

    def set_pricing(self, segment_price: Decimal | str, currency: str | None = None) -> None:
        """Change the segment price (and the currency) for messages sent from now on."""
        price = Decimal(segment_price)
        self._config = replace(
            self._config, segment_price=price, currency=currency or self._config.currency
        )

    def set_sender_names(self, names: Sequence[str]) -> None:
        """Change the sender names ``alphaname/list`` answers (the first is the default)."""
        self._config = replace(self._config, sender_names=tuple(names))

    def moderate(self, campaign_id: int, *, approve: bool, comment: str | None = None) -> None:
        """Decide a campaign waiting in moderation now: approved goes out, declined never does.

        ``comment`` is the moderator's ``globalComment``. ``KeyError`` for an unknown campaign,
        ``ValueError`` for one not waiting in moderation.
        """
        message = self.campaign(campaign_id)
        now = self.now()
        if not message.moderation_pending(now):
            raise ValueError(f"campaign {campaign_id} is not waiting in moderation")
        message.decide(approve=approve, comment=comment, at=now)
        if not approve:
            self._refund(message)
        self._queue_final(message)
        self._wake_webhooks()

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

    def set_moderation_timeline(
        self, seconds: float | None, *, decline_comment: str | None = None
    ) -> None:
        """Say how moderation ends for campaigns sent from now on (when moderation is on).

        After ``seconds`` (at speed 1) the campaign is approved, or declined with
        ``decline_comment`` when given; ``None`` keeps it waiting for :meth:`moderate`.
        """
        self._config = replace(
            self._config, moderation_seconds=seconds, decline_comment=decline_comment
        )

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
        """How many requests named ``method`` (any case) arrived, whatever their answer.

        A bare name (``list``) counts Message methods; ``module/method`` names one exactly.
        """
        name = method.lower()
        if "/" in name:
            return sum(1 for r in self.requests if _key(r.module, r.method) == _key(*_split(name)))
        return sum(
            1
            for request in self.requests
            if request.method == name and request.module not in _ACCOUNT_MODULES
        )

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
        key = _key(module, method)
        delay = self._latency.get(key, self._latency[None])
        if delay > 0:
            await asyncio.sleep(delay)
        await self._released.wait()
        fault = self._take_fault(key)
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
        key = _key(module, method)
        if module not in _MODULES:
            refusal = Answer(4, [], f"Unknown module {module!r}.")
        elif method not in _MODULES[module]:
            refusal = Answer(5, [], f"Unknown method {method!r}.")
        elif query.get("output", "json").lower() != "json":
            refusal = Answer(6, [], "Only output=json is simulated.")
        elif not hmac.compare_digest(
            query.get("apiKey", "").encode(), self._config.api_key.encode()
        ):
            refusal = Answer(8, [], _DEFAULT_MESSAGES[8])
        elif self._forced[key]:
            refusal = self._forced[key].popleft()
        elif self._over_rate_limit(key):
            refusal = Answer(_RATE_LIMITED, [], _DEFAULT_MESSAGES[_RATE_LIMITED])
        return refusal

    def _answer(
        self, module: str, method: str, query: Mapping[str, str], params: PhpForm
    ) -> Answer:
        refusal = self._refusal(module, method, query)
        if refusal is not None:
            return refusal
        now = self.now()
        if module != "message":
            return self._account_answer(_key(module, method), params, now)
        if method == GET_SMS_STATUS:
            return report_statuses(params, self.messages, now)
        if method == LIST:
            return list_messages(params, self.messages, now)
        return self._send(params, now)

    def _send(self, params: PhpForm, now: datetime) -> Answer:
        """Answer ``sendSmsMessage``: validate, shorten links, check the balance, accept."""
        order = validate_send(params, now)
        if isinstance(order, Answer):
            return order
        text = order.text
        if order.shorten_links == 1:
            text = shorten_links(text, self._short_link)
        if segment_count(text) * self._config.segment_price > self.balance:
            return Answer(
                self._config.insufficient_funds_code, [], self._config.insufficient_funds_message
            )
        message = self.create_message(
            order.recipient,
            text,
            sender=order.sender,
            name=order.name,
            validity=order.validity,
            deferred_to=order.deferred_to,
            mclass=order.mclass,
            shorten_links=order.shorten_links,
        )
        campaign_status = 1 if message.moderation else 2
        return Answer(
            0,
            {
                "campaignId": str(message.campaign_id),
                "messageId": str(message.id),
                "status": campaign_status,
            },
        )

    def _account_answer(self, key: str, params: PhpForm, now: datetime) -> Answer:
        """Answer one of :data:`ACCOUNT_METHODS`."""
        if key == GET_BALANCE:
            return balance_answer(self.balance, self._config.currency)
        if key == SENDER_NAMES:
            return sender_names_answer(params, self._config.sender_names, self._created)
        campaign_id = campaign_id_of(params)
        if isinstance(campaign_id, Answer):
            return campaign_id
        return self._campaign_answer(key, campaign_id, now)

    def _campaign_answer(self, key: str, campaign_id: int, now: datetime) -> Answer:
        """Answer ``campaign/getInfo`` or ``campaign/delete`` for ``campaign_id``."""
        message_id = self._campaigns.get(campaign_id)
        if message_id is None:
            return not_found(campaign_id)
        message = self.messages[message_id]
        if key == CAMPAIGN_INFO:
            return campaign_info(message, now, self._config.currency)
        if message.deleted_at is not None:
            return not_found(campaign_id)
        refusal = delete_refusal(message, now)
        if refusal is not None:
            return refusal
        message.delete(now)
        self._refund(message)
        return Answer(0, True)  # noqa: FBT003 - Mobizon's data for a deletion

    def _refund(self, message: SimulatedMessage) -> None:
        """Give a message's cost back to the balance, once."""
        if message.id not in self._refunded:
            self._refunded.add(message.id)
            self._charged -= message.cost

    def _settle_refunds(self) -> None:
        """Give back the cost of campaigns declined on their timeline by now."""
        now = self.now()
        while self._refunds_due and self._refunds_due[0][0] <= now:
            _at, message_id = heapq.heappop(self._refunds_due)
            message = self.messages[message_id]
            if message.declined_at(now):
                self._refund(message)

    def _short_link(self, link: str) -> str:
        """A new short link on ``short_link_base`` standing for ``link``."""
        base = self._config.short_link_base.rstrip("/")
        while True:
            code = "".join(self._links.choices(_SHORT_CODE_ALPHABET, k=4))
            short = f"{base}/{code}"
            if short not in self.short_links:
                self.short_links[short] = link
                return short

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


_ACCOUNT_MODULES = frozenset(module for module in _MODULES if module != "message")


def _split(name: str) -> tuple[str, str]:
    module, _, method = name.partition("/")
    return module, method


def _key(module: str, method: str) -> str:
    """How switches name a method: bare for the Message module, else ``module/method``."""
    return method if module == "message" else f"{module}/{method}"


def _method_name(method: str) -> str:
    """Normalize a method named by a switch: ``sendSmsMessage``, ``campaign/getInfo``..."""
    name = method.lower()
    if "/" in name:
        name = _key(*_split(name))
    if name not in MESSAGE_METHODS and name not in ACCOUNT_METHODS:
        known = (*MESSAGE_METHODS, *ACCOUNT_METHODS)
        raise ValueError(f"unknown Mobizon method {method!r}; one of {known}")
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
