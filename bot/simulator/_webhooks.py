"""Mobizon's delivery webhooks, as the simulator sends them: one event per final status.

An event keeps its ``eventId`` and ``eventCreateTs`` across attempts; each attempt is
signed anew because ``attempt`` is part of the signature. Any 2xx within 5 seconds is
success; anything else is retried on Mobizon's documented schedule: up to 10 retries, the
first a minute after the failed attempt and each gap a minute longer than the one before
(so the last comes 55 minutes after the first attempt), ``speed`` times faster.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

logger = logging.getLogger(__name__)

#: Mobizon's delivery report event type.
EVENT_TYPE = "sms-delivery-report"
#: How many times Mobizon retries an event after its first attempt fails.
MAX_RETRIES = 10
#: How many attempts Mobizon makes per event: the first and its retries.
MAX_ATTEMPTS = 1 + MAX_RETRIES
#: The gap before the first retry; each later gap is this much longer than the one before.
RETRY_STEP = 60.0
#: How long Mobizon waits for a 2xx.
ANSWER_TIMEOUT = 5.0
# The id Mobizon's control panel would give the one configured webhook.
_WEBHOOK_ID = 1
# Events posted at once, so a burst of final statuses does not open hundreds of sockets.
_CONCURRENT_POSTS = 8
_SUCCESS = range(200, 300)


def sign(event_id: int, attempt: int, event_create_ts: str, secret: str) -> str:
    """Mobizon's webhook signature: lowercase hex SHA-1 of ``id|attempt|createTs|secret``."""
    payload = f"{event_id}|{attempt}|{event_create_ts}|{secret}".encode()
    return hashlib.sha1(payload).hexdigest()  # noqa: S324 - the algorithm is Mobizon's, not ours


def retry_delay(failed_attempts: int) -> float:
    """Seconds (at speed 1) from the ``failed_attempts``-th failed attempt to the next one."""
    return RETRY_STEP * failed_attempts


@dataclass(slots=True)
class WebhookEvent:
    """One delivery report waiting to be, or already, accepted by the webhook."""

    event_id: int
    event_create_ts: str
    data: dict[str, object]
    attempts: int = 0
    delivered: bool = False
    due: float = 0.0

    @property
    def settled(self) -> bool:
        """True once accepted or out of attempts: nothing more will be sent for it."""
        return self.delivered or self.attempts >= MAX_ATTEMPTS

    def body(self, attempt: int, secret: str | None) -> dict[str, object]:
        """The JSON body of ``attempt`` (1-based), signed when a secret is set."""
        body: dict[str, object] = {
            "eventId": self.event_id,
            "eventType": EVENT_TYPE,
            "eventCreateTs": self.event_create_ts,
            "webhookId": _WEBHOOK_ID,
            "attempt": attempt,
            "data": self.data,
        }
        if secret is not None:
            body["sign"] = sign(self.event_id, attempt, self.event_create_ts, secret)
        return body


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One POST of an event: the HTTP status it got, or the transport error's class name."""

    event_id: int
    attempt: int
    status: int | None
    error: str | None
    at: datetime

    @property
    def accepted(self) -> bool:
        """True when the receiver answered 2xx in time."""
        return self.status in _SUCCESS


@dataclass(slots=True)
class WebhookOutbox:
    """Events not yet settled, and the record of every attempt made."""

    url: str | None
    secret: str | None = field(repr=False)
    events: list[WebhookEvent] = field(default_factory=list)
    attempts: list[WebhookAttempt] = field(default_factory=list)
    last_event_id: int = 0

    def add(self, data: dict[str, object], event_create_ts: str) -> WebhookEvent:
        """Queue a new event with the next ``eventId``."""
        self.last_event_id += 1
        event = WebhookEvent(self.last_event_id, event_create_ts, data)
        self.events.append(event)
        return event

    async def send_due(
        self,
        session: aiohttp.ClientSession,
        *,
        now: datetime,
        loop_time: float,
        speed: float,
        everything: bool,
    ) -> int:
        """POST every event that is due (or every pending one); return how many were accepted."""
        url = self.url
        if url is None:
            return 0
        due = [event for event in self.events if everything or event.due <= loop_time]
        gate = asyncio.Semaphore(_CONCURRENT_POSTS)

        async def post(event: WebhookEvent) -> bool:
            async with gate:
                return await self._post(session, url, event, now=now)

        results = await asyncio.gather(*(post(event) for event in due))
        for event, accepted in zip(due, results, strict=True):
            event.delivered = accepted
            event.due = loop_time + retry_delay(event.attempts) / speed
        self.events = [event for event in self.events if not event.settled]
        return sum(results)

    async def _post(
        self, session: aiohttp.ClientSession, url: str, event: WebhookEvent, *, now: datetime
    ) -> bool:
        event.attempts += 1
        body = json.dumps(event.body(event.attempts, self.secret)).encode()
        status: int | None = None
        error: str | None = None
        try:
            async with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT),
                allow_redirects=False,
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        self.attempts.append(WebhookAttempt(event.event_id, event.attempts, status, error, now))
        accepted = status in _SUCCESS
        if not accepted:
            logger.info(
                "webhook event %d attempt %d not accepted (%s)",
                event.event_id,
                event.attempts,
                status if status is not None else error,
            )
        return accepted
