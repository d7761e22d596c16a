"""The HTTP side of the Mobizon client: its session, two lanes, retries and a call's deadline.

:class:`Transport` holds the ``aiohttp.ClientSession`` and makes each call: ``module/method``
with its form, tried per the :class:`~bot.mobizon.RetryPolicy` within the call's
:class:`~bot.mobizon.Timeouts` deadline, each HTTP exchange judged by :mod:`bot.mobizon._failures`
and Mobizon's codes by :func:`~bot.mobizon.error_for`. The client's Message methods
(:mod:`bot.mobizon._client`) and account methods (:mod:`bot.mobizon._account`) are calls over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

import aiohttp
import tenacity
from yarl import URL

from bot.mobizon import _wire as wire
from bot.mobizon._errors import (
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
)
from bot.mobizon._failures import (
    broken_connection,
    connect_failure,
    http_failure,
    outcome_of,
    worth_retrying_read,
    worth_retrying_send,
)
from bot.mobizon._gateway import BeforeRequest, SendWithheld
from bot.mobizon._policy import DEFAULT_RETRY, DEFAULT_TIMEOUTS, RetryPolicy, Timeouts
from bot.mobizon._problems import Problem
from bot.mobizon._refusals import error_for

if TYPE_CHECKING:
    from datetime import tzinfo
    from types import TracebackType

__all__ = ["DEFAULT_BASE_URL", "MESSAGE", "RequestObserver", "Transport"]

# the client's lines keep the logger name they have always had
_log = logging.getLogger("bot.mobizon.client")

DEFAULT_BASE_URL: Final = "https://api.mobizon.com.br"

#: Called after each HTTP attempt with (method, outcome, seconds); outcome is one of
#: "ok", "api_error", "gateway_error", "network_error", "timeout". It must not raise.
#: ``method`` is the bare lowercased name for the Message module ("sendsmsmessage",
#: "getsmsstatus", "list") and "module/method" for the others ("user/getownbalance",
#: "alphaname/list", "campaign/getinfo", "campaign/delete").
RequestObserver = Callable[[str, str, float], None]

#: The Message module: its methods are named bare in logs and metrics.
MESSAGE = "message"
_FORM = "application/x-www-form-urlencoded"
_USER_AGENT = "smsbot (+aiohttp)"


class Transport:
    """The calls of one Mobizon account: sends and reads in separate lanes, retried in time.

    The constructor's parameters are :class:`~bot.mobizon.MobizonClient`'s.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        max_concurrency: int = 4,
        on_request: RequestObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timezone: tzinfo | None = None,
    ) -> None:
        url = URL(base_url.rstrip("/"))
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("the Mobizon base URL must look like https://api.mobizon.com.br")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._api_key = api_key
        self._base_url = str(url)
        self._host = url.host
        self._timeouts = timeouts
        self._retry = retry
        self._max_concurrency = max_concurrency
        self._on_request = on_request
        self._sleep = sleep
        self._zone = timezone
        self._slots = asyncio.Semaphore(max_concurrency)
        self._send_slots = asyncio.Semaphore(max_concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._requests_made = 0

    async def __aenter__(self) -> Self:
        self._open_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session; the client cannot be used afterwards. Safe to call twice."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    @property
    def requests_made(self) -> int:
        """How many HTTP requests this client has started, retries included."""
        return self._requests_made

    async def _call(
        self,
        method: str,
        pairs: wire.Pairs,
        *,
        sending: bool,
        module: str = MESSAGE,
        writing: bool = False,
        before_request: BeforeRequest | None = None,
        answered: frozenset[int] = frozenset(),
    ) -> object:
        """Call ``module/method`` with retries per the policy; return the envelope's ``data``.

        Reads retry what may pass (network, outages, 5xx, rate limiting); a send retries only
        what provably never left this machine (:func:`worth_retrying_send`), since a second
        send of an SMS that did go out would send it twice. ``writing`` (a change other than a
        send, such as a deletion) takes the send lane and its retry rule, with the reads'
        wording in errors. ``before_request`` (a send's) runs once its lane is held.
        ``answered`` names codes besides 0 whose ``data`` is an answer, not a failure (such as
        ``campaign/addrecipients``' 98 and 99: some or no recipients added, each row saying why).
        """
        body = wire.encode_form(pairs)
        careful = sending or writing
        label = _label(module, method)
        # a send (or a deletion) waits for its lane before its deadline starts: queueing behind
        # other sends is not Mobizon failing to answer, and a send refused for it would have to
        # be typed again; a read's deadline includes the wait, so whoever asked hears in time
        async with self._send_slots if careful else contextlib.nullcontext():
            # the lane is held: nothing waits between here and the request but the request
            if before_request is not None and not await before_request():
                raise SendWithheld
            return await self._call_in_time(
                module, method, body, label, sending=sending, careful=careful, answered=answered
            )

    async def _call_in_time(
        self,
        module: str,
        method: str,
        body: bytes,
        label: str,
        *,
        sending: bool,
        careful: bool,
        answered: frozenset[int],
    ) -> object:
        """:meth:`_call`'s tries within the call's deadline (a send holds its lane already)."""
        worth_retrying = worth_retrying_send if careful else worth_retrying_read
        loop = asyncio.get_running_loop()
        past = loop.time() + self._timeouts.deadline
        retrying = tenacity.AsyncRetrying(
            # the deadline's cancel can be lost when aiohttp's own timeout fires at the same
            # moment (it turns the cancel into its TimeoutError): no try starts past it either
            stop=tenacity.stop_any(
                tenacity.stop_after_attempt(self._retry.attempts),
                tenacity.stop_after_delay(self._timeouts.deadline),
            ),
            wait=self._retry.wait,
            retry=tenacity.retry_if_exception(
                lambda error: isinstance(error, MobizonError) and worth_retrying(error)
            ),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(label, state),
            reraise=True,
        )
        tried = _Tries()
        try:
            async with asyncio.timeout_at(past) as scope:
                result: object = await retrying(
                    self._attempt,
                    module,
                    method,
                    body,
                    tried,
                    sending=sending,
                    send_lane=careful,
                    answered=answered,
                )
        except TimeoutError:
            if not scope.expired():
                raise
        except MobizonTimeoutError:
            if loop.time() < past:
                raise
            # no answer by the deadline, though its cancel was lost on the way: said as such
        else:
            return result
        # outside the except block: the error chains nothing
        raise self._past_deadline(label, tried, sending=sending)

    def _past_deadline(self, label: str, tried: _Tries, *, sending: bool) -> MobizonTimeoutError:
        """The call's deadline passed: say so, and whether a send may have left."""
        seconds = self._timeouts.deadline
        _log.info(
            "Mobizon %s: no answer within the %g s deadline (%d tries)", label, seconds, tried.count
        )
        return MobizonTimeoutError(
            f"Mobizon did not answer within {seconds:g} s",
            sending=sending,
            never_sent=not tried.in_flight,
            details={"seconds": seconds},
        )

    def _log_retry(self, label: str, state: tenacity.RetryCallState) -> None:
        """Log a failed attempt that is about to be retried (the error's type only)."""
        error = state.outcome.exception() if state.outcome is not None else None
        _log.info(
            "Mobizon %s failed (%s); retry %d of %d in %.2f s",
            label,
            type(error).__name__,
            state.attempt_number,
            self._retry.attempts - 1,
            state.next_action.sleep if state.next_action is not None else 0.0,
        )

    def _open_session(self) -> aiohttp.ClientSession:
        """Return the client's session, created on first use inside the running loop."""
        if self._closed:
            raise RuntimeError("this MobizonClient is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self._timeouts.total, sock_connect=self._timeouts.connect
                ),
                connector=aiohttp.TCPConnector(limit=2 * self._max_concurrency),  # both lanes
                headers={"User-Agent": _USER_AGENT},
            )
        return self._session

    async def _attempt(
        self,
        module: str,
        method: str,
        body: bytes,
        tried: _Tries,
        *,
        sending: bool,
        send_lane: bool,
        answered: frozenset[int] = frozenset(),
    ) -> object:
        """One HTTP exchange; aiohttp's errors become ours here, outside any ``except``.

        They are raised after the ``except`` block so they chain nothing: aiohttp's
        exceptions carry the URL, and with it the API key.
        """
        session = self._open_session()
        label = _label(module, method)
        # a send's lane is held by its whole call (see _call); a read takes its lane per try
        async with contextlib.nullcontext() if send_lane else self._slots:
            self._requests_made += 1
            tried.count += 1
            started = time.monotonic()
            failure: MobizonError | None = None
            data: object = None
            tried.in_flight = True
            try:
                status, location, raw = await self._post(session, module, method, body)
            except asyncio.CancelledError:  # the call's deadline cut it (or shutdown did)
                self._observe(label, "timeout", time.monotonic() - started)
                raise
            except TimeoutError as error:  # aiohttp's connect and read timeouts included
                failure = self._timeout(error, sending=sending)
            except aiohttp.ClientConnectorError as error:
                failure = connect_failure(error, self._host, sending=sending)
            except aiohttp.ClientPayloadError:
                failure = MobizonGatewayError(
                    "Mobizon's answer was cut off",
                    sending=sending,
                    outcome_unknown=True,
                    reason=Problem.CUT_OFF,
                )
            except aiohttp.ClientError as error:
                failure = broken_connection(error, sending=sending)
            else:
                envelope = wire.decode_envelope(raw)
                if envelope is None:
                    failure = http_failure(status, location, raw, sending=sending)
                elif envelope.code != 0 and envelope.code not in answered:
                    # Mobizon's text and data are shown to people and stored: make sure neither
                    # can echo the key back
                    failure = error_for(
                        envelope.code,
                        envelope.message,
                        envelope.data,
                        sending=sending,
                        secrets=[self._api_key],
                    )
                else:
                    data = envelope.data
            # a connection never made left nothing behind: the deadline may still say "not sent"
            tried.in_flight = not (isinstance(failure, MobizonNetworkError) and failure.never_sent)
            elapsed = time.monotonic() - started
        self._observe(label, "ok" if failure is None else outcome_of(failure), elapsed)
        if failure is not None:
            raise failure
        return data

    def _observe(self, label: str, outcome: str, elapsed: float) -> None:
        """Log one attempt's outcome and hand it to ``on_request``."""
        _log.debug("Mobizon %s: %s in %.3f s", label, outcome, elapsed)
        if self._on_request is not None:
            self._on_request(label, outcome, elapsed)

    async def _post(
        self, session: aiohttp.ClientSession, module: str, method: str, body: bytes
    ) -> tuple[int, str | None, bytes]:
        """POST the form to ``<module>/<method>``; return status, Location and the body."""
        async with session.post(
            f"{self._base_url}/service/{module}/{method}",
            params={"output": "json", "api": "v1", "apiKey": self._api_key},
            data=body,
            headers={"Content-Type": _FORM},
            allow_redirects=False,
        ) as response:
            return response.status, response.headers.get("Location"), await response.read()

    def _timeout(self, error: TimeoutError, *, sending: bool) -> MobizonTimeoutError:
        """Describe a connect or total timeout in words."""
        if isinstance(error, aiohttp.ConnectionTimeoutError):
            kind, seconds = Problem.CONNECT_TIMEOUT, self._timeouts.connect
            problem = f"Mobizon could not be reached: no connection within {seconds:g} s"
        else:
            kind, seconds = Problem.TIMEOUT, self._timeouts.total
            problem = f"Mobizon did not answer within {seconds:g} s"
        return MobizonTimeoutError(
            problem, sending=sending, reason=kind, details={"seconds": seconds}
        )


@dataclass(slots=True)
class _Tries:
    """One call's tries so far: how many, and whether one may have reached Mobizon."""

    count: int = 0
    in_flight: bool = False


def _label(module: str, method: str) -> str:
    """Name a method in logs and metrics: bare for the Message module, else ``module/method``."""
    return method if module == MESSAGE else f"{module}/{method}"
