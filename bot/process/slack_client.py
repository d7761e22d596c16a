"""The one construction of smsbot's Slack Web API clients."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.process.settings import Settings

#: How often the listeners' client retries a 429 (Slack did nothing, so it is safe).
RATE_LIMIT_RETRIES = 2


def make_slack_client(
    settings: Settings, session: aiohttp.ClientSession, *, retry_rate_limits: bool = True
) -> AsyncWebClient:
    """A Slack Web API client at the configured base URL, retrying nothing but 429s.

    slack_sdk's default handler also retries dropped connections, which could post the SMS's
    channel message twice after Slack had taken it; a 429 is safe to retry (nothing was done).
    Delivery tracking's notifier paces itself and reschedules on 429, so it asks for no retries
    (``retry_rate_limits=False``).
    """
    handlers: list[AsyncRetryHandler] = (
        [AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]
        if retry_rate_limits
        else []
    )
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=handlers,
    )
