"""What went wrong with a Mobizon request that carries no API code, as data the surfaces word."""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    """What went wrong, as data, for a failure that is not a refusal with a code.

    A :class:`MobizonGatewayError` or :class:`MobizonNetworkError` carries one in ``problem``
    and its values in ``details`` (names listed here); the Slack side words it for people.
    """

    UNREACHABLE_NAME = "unreachable_name"  # host: the name could not be resolved
    UNREACHABLE_REFUSED = "unreachable_refused"  # host: the connection was refused
    UNREACHABLE_TLS = "unreachable_tls"  # host: the secure connection failed
    UNREACHABLE = "unreachable"  # host, reason (the OS's words, may be empty)
    CONNECT_TIMEOUT = "connect_timeout"  # seconds: no connection within that time
    TIMEOUT = "timeout"  # seconds: no answer within that time
    DISCONNECTED = "disconnected"  # Mobizon closed the connection before answering
    RESET = "reset"  # the connection was reset
    CONNECTION_FAILED = "connection_failed"  # error_type: another broken connection
    REDIRECT = "redirect"  # status, target (a host or None)
    HTTP_TOO_MANY = "http_too_many"  # status 429
    HTTP_CLIENT_ERROR = "http_client_error"  # status: a 4xx page
    HTTP_SERVER_ERROR = "http_server_error"  # status: a 5xx page
    EMPTY_ANSWER = "empty_answer"
    UNREADABLE_ANSWER = "unreadable_answer"  # cut off or not JSON
    CUT_OFF = "cut_off"
    FAILURE_CODE = "failure_code"  # code, api_message: a code that says Mobizon broke
    UNREADABLE_SENT = "unreadable_sent"  # accepted the SMS, answer unreadable
    UNREADABLE_LIST = "unreadable_list"
    UNREADABLE_BALANCE = "unreadable_balance"
    UNREADABLE_SENDER_NAMES = "unreadable_sender_names"
    UNREADABLE_CAMPAIGN = "unreadable_campaign"
    UNREADABLE_STATUSES = "unreadable_statuses"
    OTHER = "other"  # only the English ``str()`` says more
