"""What the notifier makes of Slack's refusals: gone, refused for good, or passing.

Slack's error names sorted by what the notifier does about them, and the wait a 429 asks for.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from handlers.posting import slack_error

HTTP_TOO_MANY_REQUESTS = 429
_HTTP_SERVER_ERROR = 500

#: Errors that mean the SMS's original message or its channel is gone: tell the sender directly.
GONE_ERRORS = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cant_update_message",
    }
)
#: Errors no retry can cure (the sender's account is gone, the message cannot be built): after
#: :data:`PERMANENT_ATTEMPTS` such refusals in a row the notification is dropped, logged as an
#: error, instead of being retried forever. Token and scope errors are not among them: an
#: operator fixes those, and the queued updates then go out.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "user_not_visible",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
    }
)
PERMANENT_ATTEMPTS = 5


#: Slack errors that pass: try again later rather than act on a guess.
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "request_timeout", "service_unavailable", "ratelimited"}
)


def transient(err: SlackApiError) -> bool:
    """Whether Slack's refusal may pass: a 429, a 5xx or one of :data:`TRANSIENT_ERRORS`."""
    status = err.response.status_code
    return (
        status == HTTP_TOO_MANY_REQUESTS
        or status >= _HTTP_SERVER_ERROR
        or slack_error(err) in TRANSIENT_ERRORS
    )


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds Slack asked to wait (``Retry-After``), at least one.

    slack_sdk's async client keeps aiohttp's headers, whose keys ignore case; it does not parse
    the value itself (its own rate-limit handler reads the same header by hand).
    """
    try:
        return max(1.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0
