"""The simulator's HTTP side: reading requests, refusing them, and the faults it can be told.

A mixin of :class:`~bot.simulator.MobizonSimulator`: the aiohttp application, the checks due
before a method runs (address, key, forced errors, rate limits), latency and holding, and the
transport faults (dropped connections, HTML error pages, cut-off answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.simulator._config import (
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_CREATE,
    CAMPAIGN_DELETE,
    CAMPAIGN_SEND,
    GET_SMS_STATUS,
    LIST,
    MODULES,
    SEND_SMS,
    RecordedRequest,
    SimulatorConfig,
    method_key,
    method_name,
)
from bot.simulator._form import PhpForm, as_text, decode_php_form, from_json
from bot.simulator._messages import SimulatedMessage
from bot.simulator._methods import Answer, list_messages, report_statuses

# Query parameters that address the gateway rather than the method.
_RESERVED_QUERY = frozenset({"apiKey", "output", "api"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = "application/json"
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
#: The methods whose success changes what the gateway keeps (messages, campaigns, balance).
_CHANGING = frozenset(
    {SEND_SMS, CAMPAIGN_DELETE, CAMPAIGN_CREATE, CAMPAIGN_ADD_RECIPIENTS, CAMPAIGN_SEND}
)
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(slots=True)
class _TransportFault:
    """A queued failure in front of the gateway: ``kind`` is drop, html or truncate."""

    kind: str
    method: str | None
    remaining: int
    status: int = 502
    close_connection: bool = True


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log without the query string, which carries the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


class RequestHandling:
    """Answers HTTP requests as Mobizon's gateway; the simulator's state is its subclass's."""

    _config: SimulatorConfig
    #: Every message accepted so far, by message id.
    messages: dict[int, SimulatedMessage]
    #: Every request received, oldest first.
    requests: list[RecordedRequest]

    def _init_requests(self, config: SimulatorConfig) -> None:
        self.requests = []
        self._latency: dict[str | None, float] = {None: config.latency}
        self._released = asyncio.Event()  # cleared by hold(): answers wait for release()
        self._released.set()
        self._held: dict[str, asyncio.Event] = {}  # hold(method=...): that method's answers wait
        self._forced: defaultdict[str, deque[Answer]] = defaultdict(deque)
        self._rate_limited: defaultdict[str, int] = defaultdict(int)
        self._max_per_second: dict[str, float] = {}
        self._recent_calls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._faults: list[_TransportFault] = []

    if TYPE_CHECKING:  # the simulator's own, found at run time on the subclass

        def now(self) -> datetime:
            raise NotImplementedError

        def _account_answer(self, key: str, params: PhpForm, now: datetime) -> Answer:
            raise NotImplementedError

        def _bulk_answer(self, key: str, params: PhpForm, now: datetime) -> Answer | None:
            raise NotImplementedError

        def _send(self, params: PhpForm, now: datetime) -> Answer:
            raise NotImplementedError

        def _webhook_lifetime(self, _app: web.Application) -> AsyncIterator[None]:
            raise NotImplementedError

        async def save_state(self) -> None:
            raise NotImplementedError

    # -- switches -------------------------------------------------------------------------

    def set_latency(self, seconds: float, *, method: str | None = None) -> None:
        """Delay answers by ``seconds``: for one method, or for all without their own delay."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self._latency[method_name(method) if method else None] = seconds

    def hold(self, *, method: str | None = None) -> None:
        """Hold answers from now on (the request is recorded, not acted on) until released.

        Every answer, or only ``method``'s. For tests that need Mobizon "still thinking"
        without sleeping through a latency.
        """
        if method is None:
            self._released.clear()
        else:
            self._held.setdefault(method_name(method), asyncio.Event())

    def release(self, *, method: str | None = None) -> None:
        """Let held answers, and later ones, go out: ``method``'s, or every one held."""
        if method is None:
            self._released.set()
            held = list(self._held.values())
            self._held.clear()
        else:
            held = [event] if (event := self._held.pop(method_name(method), None)) else []
        for event in held:
            event.set()

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
        self._forced[method_name(method)].extend([answer] * times)

    def rate_limit_next(self, method: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with code 30 (too many requests)."""
        self._rate_limited[method_name(method)] += times

    def set_rate_limit(self, method: str, per_second: float | None) -> None:
        """Answer code 30 when ``method`` is called more than ``per_second`` times a second."""
        name = method_name(method)
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

    def make_app(self) -> web.Application:
        """Build the aiohttp application; it runs the webhook sender while it is up."""
        app = web.Application()
        app.router.add_route("*", "/service/{module}/{method}", self._handle)
        app.cleanup_ctx.append(self._webhook_lifetime)
        app.on_cleanup.append(self._save_at_exit)
        return app

    async def _save_at_exit(self, _app: web.Application) -> None:
        await self.save_state()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # any case, as Mobizon serves both message/sendsmsmessage and Message/SendSmsMessage
        module = request.match_info["module"].lower()
        method = request.match_info["method"].lower()
        body = await request.read()
        query, params = _read_parameters(request, body)
        self.requests.append(
            RecordedRequest(module, method, request.method, query, body, params, self.now())
        )
        key = method_key(module, method)
        delay = self._latency.get(key, self._latency[None])
        if delay > 0:
            await asyncio.sleep(delay)
        await self._released.wait()
        if (held := self._held.get(key)) is not None:
            await held.wait()
        fault = self._take_fault(key)
        if fault is not None and fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        if fault is not None and fault.kind == "html":
            return _html_error(fault.status)
        answer = self._answer(module, method, query, params)
        if key in _CHANGING and answer.code == 0:
            await self.save_state()  # kept before the answer: what Mobizon took is never lost
        payload = json.dumps(answer.envelope()).encode()
        if fault is not None:
            return await _truncated(request, payload, close_connection=fault.close_connection)
        return web.Response(body=payload, content_type="application/json", charset="utf-8")

    def _refusal(self, module: str, method: str, query: Mapping[str, str]) -> Answer | None:
        """The error answer due before a method runs (address, key, switches), if any."""
        refusal: Answer | None = None
        key = method_key(module, method)
        if module not in MODULES:
            refusal = Answer(4, [], f"Unknown module {module!r}.")
        elif method not in MODULES[module]:
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
            key = method_key(module, method)
            answer = self._bulk_answer(key, params, now)
            return self._account_answer(key, params, now) if answer is None else answer
        if method == GET_SMS_STATUS:
            return report_statuses(params, self.messages, now)
        if method == LIST:
            return list_messages(params, self.messages, now)
        return self._send(params, now)

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
            fault.method = method_name(fault.method)
        self._faults.append(fault)

    def _take_fault(self, method: str) -> _TransportFault | None:
        for fault in self._faults:
            if fault.method in {None, method}:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None


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
