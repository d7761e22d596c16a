"""What a failed Mobizon request means: worth retrying, maybe carried out, and its words.

Pure judgements over :mod:`bot.mobizon._errors`, shared by the client's calls and its account
methods; none of the errors built here carries the URL, so none carries the API key.
"""

from __future__ import annotations

import errno
import os
import socket

import aiohttp
from yarl import URL

from bot.mobizon._errors import (
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
)
from bot.mobizon._problems import Problem
from bot.mobizon._refusals import MobizonApiError, MobizonRateLimitedError

_HTTP_REDIRECT = range(300, 400)
_HTTP_CLIENT_ERROR = range(400, 500)
_HTTP_SERVER_ERROR = range(500, 600)
_HTTP_TOO_MANY_REQUESTS = 429


def worth_retrying_read(error: MobizonError) -> bool:
    """Tell whether a read call may try again: network, outages, 5xx, rate limiting."""
    if isinstance(error, MobizonNetworkError | MobizonRateLimitedError):
        return True
    if isinstance(error, MobizonGatewayError):
        status = error.http_status
        # Redirects and 4xx pages mean a wrong MOBIZON_API_URL: asking again won't help.
        return status is None or status == _HTTP_TOO_MANY_REQUESTS or status not in range(300, 500)
    return False


def worth_retrying_send(error: MobizonError) -> bool:
    """Tell whether a send may try again: only when the SMS cannot have gone out."""
    return isinstance(error, MobizonNetworkError) and error.never_sent


def may_have_taken_effect(error: MobizonError) -> bool:
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


#: Every outcome :func:`outcome_of` names, and "ok" for an attempt that succeeded.
OUTCOMES = frozenset({"ok", "api_error", "gateway_error", "network_error", "timeout"})


def outcome_of(error: MobizonError) -> str:
    """Name the metrics outcome of a failed attempt."""
    if isinstance(error, MobizonTimeoutError):
        return "timeout"
    if isinstance(error, MobizonNetworkError):
        return "network_error"
    if isinstance(error, MobizonApiError):
        return "api_error"
    return "gateway_error"


def connect_failure(
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


def broken_connection(error: aiohttp.ClientError, *, sending: bool) -> MobizonNetworkError:
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


def http_failure(
    status: int, location: str | None, body: bytes, *, sending: bool
) -> MobizonGatewayError:
    """Judge a reply that is not Mobizon's JSON envelope by its HTTP status."""
    if status in _HTTP_REDIRECT:
        target = URL(location).host if location else None
        towards = f" to {target}" if target else ""
        problem = (
            f"Mobizon redirected the request{towards} (HTTP {status}); "
            "whoever runs smsbot should check MOBIZON_API_URL"
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
            "whoever runs smsbot should check MOBIZON_API_URL"
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
