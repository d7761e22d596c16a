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
import errno
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

import aiohttp
import tenacity
from yarl import URL

from bot.mobizon import wire
from bot.mobizon.backoff import backoff
from bot.mobizon.errors import (
    MobizonApiError,
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonNotFoundError,
    MobizonRateLimitedError,
    MobizonTimeoutError,
    Problem,
    error_for,
)

if TYPE_CHECKING:
    from datetime import tzinfo
    from types import TracebackType

    from bot.mobizon.types import (
        Balance,
        CampaignInfo,
        ListCriteria,
        MessagePage,
        OutgoingSms,
        SenderName,
        SentMessage,
        SmsStatus,
        Sort,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
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
_BALANCE = ("user", "getownbalance")
_SENDER_NAMES = ("alphaname", "list")
_CAMPAIGN_INFO = ("campaign", "getinfo")
_CAMPAIGN_DELETE = ("campaign", "delete")
# Code 10 of campaign/delete: "the campaign cannot be deleted" (sending started or near).
_NOT_DELETABLE = 10
# No account has this many sender names; a gateway paging forever stops here.
_MAX_SENDER_NAME_PAGES = 50
_FORM = "application/x-www-form-urlencoded"
_USER_AGENT = "smsbot (+aiohttp)"
_HTTP_REDIRECT = range(300, 400)
_HTTP_CLIENT_ERROR = range(400, 500)
_HTTP_SERVER_ERROR = range(500, 600)
_HTTP_TOO_MANY_REQUESTS = 429


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait for Mobizon, in seconds: to connect, and for the whole exchange."""

    connect: float = 5.0
    total: float = 20.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How read calls retry: ``attempts`` in all, capped exponential backoff, full jitter.

    Between two attempts the client waits :func:`~bot.mobizon.backoff.backoff`: from
    ``base_delay``, doubling, capped at ``max_delay``.
    Sends are retried only when the request provably never left this machine.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        return backoff(retry_number, first=self.base_delay, cap=self.max_delay)


DEFAULT_TIMEOUTS: Final = Timeouts()
DEFAULT_RETRY: Final = RetryPolicy()


def _worth_retrying_read(error: MobizonError) -> bool:
    """Tell whether a read call may try again: network, outages, 5xx, rate limiting."""
    if isinstance(error, MobizonNetworkError | MobizonRateLimitedError):
        return True
    if isinstance(error, MobizonGatewayError):
        status = error.http_status
        # Redirects and 4xx pages mean a wrong MOBIZON_API_URL: asking again won't help.
        return status is None or status == _HTTP_TOO_MANY_REQUESTS or status not in range(300, 500)
    return False


def _worth_retrying_send(error: MobizonError) -> bool:
    """Tell whether a send may try again: only when the SMS cannot have gone out."""
    return isinstance(error, MobizonNetworkError) and error.never_sent


def _may_have_taken_effect(error: MobizonError) -> bool:
    """Tell whether a failed write may still have been carried out by Mobizon.

    Only a refusal (an API code), a connection never made, or a redirect or 4xx page (the
    request never reached the API) prove it was not.
    """
    if isinstance(error, MobizonNetworkError):
        return not error.never_sent
    if isinstance(error, MobizonGatewayError):
        status = error.http_status
        return error.code is not None or status is None or status not in range(300, 500)
    return False


def _outcome_of(error: MobizonError) -> str:
    """Name the metrics outcome of a failed attempt."""
    if isinstance(error, MobizonTimeoutError):
        return "timeout"
    if isinstance(error, MobizonNetworkError):
        return "network_error"
    if isinstance(error, MobizonApiError):
        return "api_error"
    return "gateway_error"


def _connect_failure(
    error: aiohttp.ClientConnectorError, host: str, *, sending: bool
) -> MobizonNetworkError:
    """Describe a connection never made (so the request never left), without the URL."""
    cause = error.os_error
    details: dict[str, object] = {"host": host}
    if isinstance(error, aiohttp.ClientConnectorDNSError) or isinstance(cause, socket.gaierror):
        kind = Problem.UNREACHABLE_NAME
        problem = (
            f"Mobizon could not be reached: the name {host} could not be resolved "
            "(check MOBIZON_API_URL and the network)"
        )
    elif isinstance(cause, ConnectionRefusedError) or cause.errno == errno.ECONNREFUSED:
        # The errno test covers "Multiple exceptions" (every address of the host refused).
        kind = Problem.UNREACHABLE_REFUSED
        problem = f"Mobizon could not be reached: {host} refused the connection"
    elif isinstance(error, aiohttp.ClientSSLError):
        kind = Problem.UNREACHABLE_TLS
        problem = f"Mobizon could not be reached: the secure connection to {host} failed"
    else:
        # Not cause.strerror: for several addresses it lists each of them, bracketed.
        kind = Problem.UNREACHABLE
        details["reason"] = os.strerror(cause.errno).lower() if cause.errno else ""
        reason = f" ({details['reason']})" if cause.errno else ""
        problem = f"Mobizon could not be reached: the connection to {host} failed{reason}"
    return MobizonNetworkError(
        problem, never_sent=True, sending=sending, reason=kind, details=details
    )


def _broken_connection(error: aiohttp.ClientError, *, sending: bool) -> MobizonNetworkError:
    """Describe a connection that broke once made, by type only: aiohttp's text has the URL."""
    details: dict[str, object] = {}
    if isinstance(error, aiohttp.ServerDisconnectedError):
        kind, reason = Problem.DISCONNECTED, "Mobizon closed the connection before answering"
    elif isinstance(error, ConnectionResetError) or (
        isinstance(error, OSError) and error.errno == errno.ECONNRESET
    ):
        kind, reason = Problem.RESET, "The connection to Mobizon was reset"
    else:
        kind, details["error_type"] = Problem.CONNECTION_FAILED, type(error).__name__
        reason = f"The connection to Mobizon failed ({type(error).__name__})"
    return MobizonNetworkError(
        reason, never_sent=False, sending=sending, reason=kind, details=details
    )


def _http_failure(
    status: int, location: str | None, body: bytes, *, sending: bool
) -> MobizonGatewayError:
    """Judge a reply that is not Mobizon's JSON envelope by its HTTP status."""
    if status in _HTTP_REDIRECT:
        target = URL(location).host if location else None
        towards = f" to {target}" if target else ""
        problem = (
            f"Mobizon redirected the request{towards} (HTTP {status}); "
            "the operator should check MOBIZON_API_URL"
        )
        return MobizonGatewayError(
            problem,
            http_status=status,
            sending=sending,
            reason=Problem.REDIRECT,
            details={"status": status, "target": target},
        )
    if status == _HTTP_TOO_MANY_REQUESTS:
        problem = "Mobizon is getting too many requests right now (HTTP 429)"
        return MobizonGatewayError(
            problem,
            http_status=status,
            sending=sending,
            reason=Problem.HTTP_TOO_MANY,
            details={"status": status},
        )
    if status in _HTTP_CLIENT_ERROR:
        problem = (
            f"Mobizon answered HTTP {status} instead of an API response; "
            "the operator should check MOBIZON_API_URL"
        )
        return MobizonGatewayError(
            problem,
            http_status=status,
            sending=sending,
            reason=Problem.HTTP_CLIENT_ERROR,
            details={"status": status},
        )
    if status in _HTTP_SERVER_ERROR:
        kind, problem = Problem.HTTP_SERVER_ERROR, f"Mobizon failed with HTTP {status}"
    elif not body.strip():
        kind, problem = Problem.EMPTY_ANSWER, "Mobizon's answer was empty"
    else:
        kind = Problem.UNREADABLE_ANSWER
        problem = "Mobizon's answer could not be read (cut off or not JSON)"
    return MobizonGatewayError(
        problem,
        http_status=status,
        sending=sending,
        outcome_unknown=True,
        reason=kind,
        details={"status": status},
    )


class MobizonClient:
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

    async def send_sms(self, sms: OutgoingSms) -> SentMessage:
        """Send one SMS (its recipient in international digits, no ``+``).

        Only the parameters ``sms`` sets are sent. Never repeated unless the request provably
        never left; a failure with ``outcome_unknown`` may still have sent the SMS.
        """
        pairs = wire.send_sms_pairs(sms, zone=self._zone)
        data = await self._call(_SEND, pairs, sending=True)
        try:
            return wire.parse_sent_message(data)
        except wire.MalformedAnswerError:
            problem = "Mobizon accepted the SMS but its answer could not be read"
        raise MobizonGatewayError(problem, sending=True, outcome_unknown=True)

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

    async def get_balance(self) -> Balance:
        """The account's balance and currency (``user/getOwnBalance``); a read, retried."""
        module, method = _BALANCE
        data = await self._call(method, [], sending=False, module=module)
        try:
            return wire.parse_balance(data)
        except wire.MalformedAnswerError:
            problem = "Mobizon's answer about the balance could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_BALANCE)

    async def list_sender_names(self) -> tuple[SenderName, ...]:
        """Every sender name of the account (``alphaname/list``, all pages), in Mobizon's order.

        A read, retried. Entries without a name are skipped; duplicates are kept as sent.
        """
        module, method = _SENDER_NAMES
        names: list[SenderName] = []
        seen = 0
        for page in range(_MAX_SENDER_NAME_PAGES):
            data = await self._call(
                method, wire.sender_names_pairs(page), sending=False, module=module
            )
            found, total, count = self._sender_name_page(data)
            names.extend(found)
            seen += count
            if count < wire.SENDER_NAMES_PAGE_SIZE or (total is not None and seen >= total):
                break
        return tuple(names)

    @staticmethod
    def _sender_name_page(data: object) -> tuple[list[SenderName], int | None, int]:
        """Read one alphaname/list page, or raise a gateway error in words."""
        try:
            return wire.parse_sender_name_page(data)
        except wire.MalformedAnswerError:
            problem = "Mobizon's list of sender names could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_SENDER_NAMES)

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo:
        """Where campaign ``campaign_id`` stands (``campaign/getInfo``); a read, retried.

        Raises :class:`MobizonCampaignNotFoundError` when Mobizon has no such campaign.
        """
        module, method = _CAMPAIGN_INFO
        try:
            data = await self._call(
                method, wire.campaign_pairs(campaign_id), sending=False, module=module
            )
        except MobizonNotFoundError as error:
            missing = MobizonCampaignNotFoundError(
                campaign_id, error.code or 2, error.api_message, error.data
            )
        else:
            try:
                return wire.parse_campaign_info(data, self._zone, campaign_id=campaign_id)
            except wire.MalformedAnswerError:
                problem = "Mobizon's answer about the campaign could not be read"
            raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_CAMPAIGN)
        raise missing

    async def delete_campaign(self, campaign_id: int) -> None:
        """Delete campaign ``campaign_id`` (``campaign/delete``), so it is never sent.

        Mobizon allows it before sending starts, and for a scheduled campaign until 5 minutes
        before its start. Never repeated unless the request provably never left. Raises
        :class:`MobizonCampaignNotFoundError` (code 2), :class:`MobizonCampaignNotDeletableError`
        (code 10: too late), :class:`MobizonCampaignDeleteUnknownError` when the outcome is
        unknown, or another :class:`MobizonError` when it was refused or never sent.
        """
        module, method = _CAMPAIGN_DELETE
        try:
            await self._call(
                method, wire.campaign_pairs(campaign_id), sending=False, module=module, writing=True
            )
        except MobizonNotFoundError as error:
            failure: MobizonError = MobizonCampaignNotFoundError(
                campaign_id, error.code or 2, error.api_message, error.data
            )
        except MobizonGatewayError as error:
            if error.code == _NOT_DELETABLE:
                failure = MobizonCampaignNotDeletableError(
                    campaign_id, _NOT_DELETABLE, error.api_message or "", error.data
                )
            elif _may_have_taken_effect(error):
                failure = MobizonCampaignDeleteUnknownError(campaign_id, error)
            else:
                raise
        except MobizonNetworkError as error:
            if not _may_have_taken_effect(error):
                raise
            failure = MobizonCampaignDeleteUnknownError(campaign_id, error)
        else:
            return
        raise failure

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
    ) -> object:
        """Call ``module/method`` with retries per the policy; return the envelope's ``data``.

        Reads retry what may pass (network, outages, 5xx, rate limiting); a send retries only
        what provably never left this machine (:func:`_worth_retrying_send`), since a second
        send of an SMS that did go out would send it twice. ``writing`` (a change other than a
        send, such as a deletion) takes the send lane and its retry rule, with the reads'
        wording in errors.
        """
        body = wire.encode_form(pairs)
        careful = sending or writing
        worth_retrying = _worth_retrying_send if careful else _worth_retrying_read
        label = _label(module, method)
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self._retry.attempts),
            wait=lambda state: self._retry.backoff(state.attempt_number),
            retry=tenacity.retry_if_exception(
                lambda error: isinstance(error, MobizonError) and worth_retrying(error)
            ),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(label, state),
            reraise=True,
        )
        result: object = await retrying(
            self._attempt, module, method, body, sending=sending, send_lane=careful
        )
        return result

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
        self, module: str, method: str, body: bytes, *, sending: bool, send_lane: bool
    ) -> object:
        """One HTTP exchange; aiohttp's errors become ours here, outside any ``except``.

        They are raised after the ``except`` block so they chain nothing: aiohttp's
        exceptions carry the URL, and with it the API key.
        """
        session = self._open_session()
        async with self._send_slots if send_lane else self._slots:
            self._requests_made += 1
            started = time.monotonic()
            failure: MobizonError | None = None
            data: object = None
            try:
                status, location, raw = await self._post(session, module, method, body)
            except TimeoutError as error:  # aiohttp's connect and read timeouts included
                failure = self._timeout(error, sending=sending)
            except aiohttp.ClientConnectorError as error:
                failure = _connect_failure(error, self._host, sending=sending)
            except aiohttp.ClientPayloadError:
                failure = MobizonGatewayError(
                    "Mobizon's answer was cut off",
                    sending=sending,
                    outcome_unknown=True,
                    reason=Problem.CUT_OFF,
                )
            except aiohttp.ClientError as error:
                failure = _broken_connection(error, sending=sending)
            else:
                envelope = wire.decode_envelope(raw)
                if envelope is None:
                    failure = _http_failure(status, location, raw, sending=sending)
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
            elapsed = time.monotonic() - started
        outcome = "ok" if failure is None else _outcome_of(failure)
        label = _label(module, method)
        _log.debug("Mobizon %s: %s in %.3f s", label, outcome, elapsed)
        if self._on_request is not None:
            self._on_request(label, outcome, elapsed)
        if failure is not None:
            raise failure
        return data

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


def _label(module: str, method: str) -> str:
    """Name a method in logs and metrics: bare for the Message module, else ``module/method``."""
    return method if module == _MESSAGE else f"{module}/{method}"
