"""The simulated Mobizon gateway: state, runtime switches and the aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.mobizon import MessageStatus
from bot.simulator._account import (
    shorten_links,
)
from bot.simulator._account_state import AccountState
from bot.simulator._bulk import BulkCampaigns
from bot.simulator._config import (
    ACCOUNT_MODULES,
    SimulatorConfig,
    method_key,
    split_name,
)
from bot.simulator._form import PhpForm
from bot.simulator._messages import MessageState, SimulatedMessage, plan_timeline
from bot.simulator._methods import Answer, validate_send
from bot.simulator._requests import RequestHandling
from bot.simulator._sms import format_timestamp, number_info, segment_count
from bot.simulator._state import KeptState
from bot.simulator._webhooks import WebhookAttempt, WebhookOutbox

logger = logging.getLogger(__name__)

# How often, in real seconds, the webhook task looks for messages that became final.
_WEBHOOK_TICK = 0.1


class MobizonSimulator(RequestHandling, BulkCampaigns, AccountState, KeptState):
    """A fake Mobizon gateway for tests, benchmarks and the bot's sandbox mode.

    It answers ``message/sendSmsMessage``, ``message/getSMSStatus`` and ``message/list``
    (and the account's and a send to many's campaign methods) like the real service (any
    case of module and method, form or JSON bodies, same envelope, numbers as strings, same
    codes), moves each message through ``NEW -> ENQUEUD -> ACCEPTD -> final`` on its own
    clock, records every request, and can be told to misbehave. Serve it with
    :meth:`make_app`, or use :func:`~bot.simulator.start_simulator`. ``clock`` replaces
    ``datetime.now`` (naive local time). With ``state_path`` it starts from the state kept in
    that file and keeps its state there.
    """

    def __init__(
        self,
        config: SimulatorConfig = SimulatorConfig(),  # noqa: B008 - frozen, so shareable
        *,
        clock: Callable[[], datetime] | None = None,
        state_path: Path | None = None,
        timezone: tzinfo | None = None,
    ) -> None:
        self._config = config
        # the zone the clock's naive wall time is in (None: this server's): the state file
        # keeps instants, so a run in another zone reads the same moments
        self._zone = timezone
        self._clock = clock or _local_now
        self._offset = timedelta()
        self._outcomes = random.Random(config.seed)
        self._uuids = random.Random(f"uuid-{config.seed}")
        self._next_message_id = config.first_message_id
        self._next_campaign_id = config.first_campaign_id
        #: Every message accepted so far, by message id.
        self.messages: dict[int, SimulatedMessage] = {}
        self._init_requests(config)
        self._init_account(config)
        self._init_bulk()
        self._outbox = WebhookOutbox(config.webhook_url, config.webhook_secret)
        self._webhook_since = self.now()
        self._final_queue: list[tuple[datetime, int]] = []
        self._reported: set[int] = set()
        self._session: aiohttp.ClientSession | None = None
        self._wakeup: asyncio.Event | None = None
        self._webhook_lock: asyncio.Lock | None = None
        self._created = self.now()
        self._init_state(state_path)

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
            return sum(
                1
                for r in self.requests
                if method_key(r.module, r.method) == method_key(*split_name(name))
            )
        return sum(
            1
            for request in self.requests
            if request.method == name and request.module not in ACCOUNT_MODULES
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

    def _draw_outcome(self) -> str:
        draw = self._outcomes.random()
        config = self._config
        for status, rate in (
            (MessageStatus.UNDELIV, config.undelivered_rate),
            (MessageStatus.REJECTD, config.rejected_rate),
            (MessageStatus.EXPIRED, config.expired_rate),
        ):
            if draw < rate:
                return status.value
            draw -= rate
        return MessageStatus.DELIVRD.value

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


def _local_now() -> datetime:
    return datetime.now()  # noqa: DTZ005 - Mobizon's timestamps are naive local time
