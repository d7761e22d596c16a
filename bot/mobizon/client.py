"""The async Mobizon client: send SMS, read their statuses, list sent messages, and the account.

Besides the three Message methods it reads the balance (``user/getOwnBalance``), the sender
names (``alphaname/list``) and a campaign (``campaign/getInfo``), and deletes a scheduled
campaign (``campaign/delete``).

One :class:`MobizonClient` per process, opened with ``async with`` (or closed with
:meth:`MobizonClient.close`); it holds one ``aiohttp.ClientSession``. Every failure is a
:class:`~bot.mobizon.errors.MobizonError` whose text people can read, and none carries
the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

import aiohttp
import tenacity
from yarl import URL

from bot.mobizon import wire
from bot.mobizon.account import ACCOUNT_METHODS, AccountMethods
from bot.mobizon.errors import (
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
    Problem,
    error_for,
)
from bot.mobizon.failures import (
    broken_connection,
    connect_failure,
    http_failure,
    outcome_of,
    worth_retrying_read,
    worth_retrying_send,
)
from bot.mobizon.gateway import BeforeRequest, SendWithheld
from bot.mobizon.policy import DEFAULT_RETRY, DEFAULT_TIMEOUTS, RetryPolicy, Timeouts

if TYPE_CHECKING:
    from datetime import tzinfo
    from types import TracebackType

    from bot.mobizon.types import (
        ListCriteria,
        MessagePage,
        OutgoingSms,
        SentMessage,
        SmsStatus,
        Sort,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "REQUEST_METHODS",
    "MobizonClient",
    "RequestObserver",
    "RetryPolicy",
    "Timeouts",
]

_log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.mobizon.com.br"

#: Called after each HTTP attempt with (method, outcome, seconds); outcome is one of
#: "ok", "api_error", "gateway_error", "network_error", "timeout". It must not raise.
#: ``method`` is the bare lowercased name for the Message module ("sendsmsmessage",
#: "getsmsstatus", "list") and "module/method" for the others ("user/getownbalance",
#: "alphaname/list", "campaign/getinfo", "campaign/delete").
RequestObserver = Callable[[str, str, float], None]

_MESSAGE = "message"
_SEND = "sendsmsmessage"
_STATUS = "getsmsstatus"
_LIST = "list"
#: Every ``method`` a :data:`RequestObserver` is called with.
REQUEST_METHODS: Final = frozenset(
    {_SEND, _STATUS, _LIST, *(f"{module}/{method}" for module, method in ACCOUNT_METHODS)}
)
_FORM = "application/x-www-form-urlencoded"
_USER_AGENT = "smsbot (+aiohttp)"


class MobizonClient(AccountMethods):
    """Talks to one Mobizon account; safe to share between concurrent tasks.

    Sends and reads take separate lanes of ``max_concurrency`` requests each, so a long status
    poll never holds up a person's ``/sms send``.

    ``on_request`` observes each HTTP attempt (see :data:`RequestObserver`); ``sleep``
    waits between retries and exists so tests can skip the wait. ``timezone`` is the account's
    time zone: aware times sent are converted into it, and times read come back aware in it
    (without it, times are naive wall time both ways).
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

    def __repr__(self) -> str:
        return f"MobizonClient(base_url={self._base_url!r}, api_key='***')"

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

    async def send_sms(
        self, sms: OutgoingSms, *, before_request: BeforeRequest | None = None
    ) -> SentMessage:
        """Send one SMS (its recipient in international digits, no ``+``).

        Only the parameters ``sms`` sets are sent. Never repeated unless the request provably
        never left; a failure with ``outcome_unknown`` may still have sent the SMS.
        ``before_request`` is awaited once, when the send holds its lane (its connection is
        free), just before the request leaves: when it says False nothing is sent and
        :class:`~bot.mobizon.gateway.SendWithheld` is raised; what it raises, nothing sent, too.
        """
        pairs = wire.send_sms_pairs(sms, zone=self._zone)
        data = await self._call(_SEND, pairs, sending=True, before_request=before_request)
        try:
            return wire.parse_sent_message(data)
        except wire.MalformedAnswerError:
            problem = "Mobizon accepted the SMS but its answer could not be read"
        raise MobizonGatewayError(
            problem, sending=True, outcome_unknown=True, reason=Problem.UNREADABLE_SENT
        )

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Ask the current status of each message id; ids Mobizon doesn't know are absent.

        Any number of ids: duplicates are dropped, the rest asked in batches of at most
        100 with at most ``max_concurrency`` requests in flight. No ids, no request.
        """
        unique = list(dict.fromkeys(ids))
        batches = [
            unique[start : start + wire.MAX_IDS_PER_STATUS_REQUEST]
            for start in range(0, len(unique), wire.MAX_IDS_PER_STATUS_REQUEST)
        ]
        tasks = [asyncio.ensure_future(self._status_batch(batch)) for batch in batches]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:
            # Stop the other batches rather than leave them running against a closing client.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        found = {status.id: status for answer in answers for status in answer}
        return {message_id: found[message_id] for message_id in unique if message_id in found}

    async def list_messages(
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage:
        """One page (0-based) of sent messages matching ``criteria``.

        Raises ValueError, before any request, for a page size other than 25, 50 or 100,
        a negative page or an unknown sort field.
        """
        pairs = wire.list_pairs(
            criteria,
            page=page,
            page_size=page_size,
            sort=sort,
            with_number_info=with_number_info,
            zone=self._zone,
        )
        data = await self._call(_LIST, pairs, sending=False)
        try:
            return wire.parse_message_page(data, page=page, page_size=page_size, zone=self._zone)
        except wire.MalformedAnswerError:
            problem = "Mobizon's list of messages could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_LIST)

    async def _status_batch(self, ids: list[int]) -> list[SmsStatus]:
        """One getSMSStatus request of at most 100 ids."""
        data = await self._call(_STATUS, wire.status_pairs(ids), sending=False)
        try:
            return wire.parse_statuses(data, self._zone)
        except wire.MalformedAnswerError:
            problem = "Mobizon's delivery statuses could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_STATUSES)

    async def _call(
        self,
        method: str,
        pairs: wire.Pairs,
        *,
        sending: bool,
        module: str = _MESSAGE,
        writing: bool = False,
        before_request: BeforeRequest | None = None,
    ) -> object:
        """Call ``module/method`` with retries per the policy; return the envelope's ``data``.

        Reads retry what may pass (network, outages, 5xx, rate limiting); a send retries only
        what provably never left this machine (:func:`worth_retrying_send`), since a second
        send of an SMS that did go out would send it twice. ``writing`` (a change other than a
        send, such as a deletion) takes the send lane and its retry rule, with the reads'
        wording in errors. ``before_request`` (a send's) runs once its lane is held.
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
                module, method, body, label, sending=sending, careful=careful
            )

    async def _call_in_time(
        self, module: str, method: str, body: bytes, label: str, *, sending: bool, careful: bool
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
                    self._attempt, module, method, body, tried, sending=sending, send_lane=careful
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
                elif envelope.code != 0:
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
    return method if module == _MESSAGE else f"{module}/{method}"
