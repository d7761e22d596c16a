"""Prometheus metrics (``GET /metrics``): one registry per app, fed by hooks on the moving parts.

- ``smsbot_sms_sent_total{outcome}``: sends asked of Mobizon, by outcome (``sent``, ``failed``,
  ``unknown`` when Mobizon may or may not have sent it); a send whose answer was lost (counted
  ``unknown``, or not at all when the process died) and that the unsettled-send lookup later finds
  at Mobizon is counted ``sent`` then;
- ``smsbot_gateway_request_duration_seconds{method,outcome}``: every HTTP attempt to Mobizon
  (``method``: ``sendsmsmessage``, ``getsmsstatus``, ``list``, or ``module/method`` for the
  account methods, such as ``user/getownbalance``);
- ``smsbot_delivery_seconds{status}``: from the send to the final status, per final status;
- ``smsbot_outbox_size`` and ``smsbot_pending_sms``: read from the database at each scrape;
- ``smsbot_poll_cycle_duration_seconds``: each status poll cycle that ran;
- ``smsbot_balance{currency}``: the account's balance as Mobizon last stated it (``/sms balance``
  and the low-balance check);
- ``smsbot_declined_campaigns_total``: campaigns Mobizon's moderators declined.

Every label takes one of a known set of values (``other`` for anything else): a value from
outside, such as the currency Mobizon states, must not make a new series each time it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from babel.numbers import list_currencies
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bot.mobizon import OUTCOMES, REQUEST_METHODS, Balance
from storage.status import DeliveryStatus

if TYPE_CHECKING:
    from bot.sms.delivery.poller import PollReport
    from storage.outbox import Notification

__all__ = ["OTHER", "Metrics", "known_label", "metrics_handler"]

logger = logging.getLogger(__name__)

#: Seconds a scrape waits for the database's two counts.
DATABASE_READ_TIMEOUT = 2.0
#: Seconds a Mobizon request may take: fast answers to the 10 s exchange timeout.
GATEWAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
#: Seconds from the send to the final status: a few seconds to a day.
DELIVERY_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
#: Seconds one poll cycle takes.
POLL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

#: A label's value when what it was given is none of the known values.
OTHER = "other"
#: ISO 4217 currency codes, current and historic, as CLDR (through Babel) lists them.
CURRENCIES = frozenset(list_currencies())
#: What a send can come to (``smsbot_sms_sent_total{outcome}``).
SEND_OUTCOMES = frozenset({"sent", "failed", "unknown"})
#: Mobizon's documented delivery statuses (``smsbot_delivery_seconds{status}``).
STATUSES = frozenset(status.value for status in DeliveryStatus)


def known_label(value: str | None, allowed: frozenset[str]) -> str:
    """``value`` when it is one of ``allowed``, else :data:`OTHER`: a label's values stay few."""
    return value if value is not None and value in allowed else OTHER


class Metrics:
    """The process's metrics in their own registry (so many apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sms_sent = Counter(
            "smsbot_sms_sent",
            "SMS sends asked of Mobizon, by outcome (sent, failed, unknown); sends whose answer "
            "was lost and that were later found at Mobizon are counted sent then.",
            ["outcome"],
            registry=self.registry,
        )
        self.gateway_requests = Histogram(
            "smsbot_gateway_request_duration_seconds",
            "Duration of each HTTP attempt to Mobizon, by API method and outcome.",
            ["method", "outcome"],
            buckets=GATEWAY_BUCKETS,
            registry=self.registry,
        )
        self.delivery = Histogram(
            "smsbot_delivery_seconds",
            "Time from sending an SMS to its final status, by final status.",
            ["status"],
            buckets=DELIVERY_BUCKETS,
            registry=self.registry,
        )
        self.poll_cycles = Histogram(
            "smsbot_poll_cycle_duration_seconds",
            "Duration of each status poll cycle that ran.",
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.outbox = Gauge(
            "smsbot_outbox_size",
            "Delivery notifications waiting to be posted to Slack.",
            registry=self.registry,
        )
        self.pending = Gauge(
            "smsbot_pending_sms",
            "Sent SMS still waiting for a final status.",
            registry=self.registry,
        )
        self.balance = Gauge(
            "smsbot_balance",
            "The Mobizon account's balance, as last stated by Mobizon, by currency.",
            ["currency"],
            registry=self.registry,
        )
        self.declined = Counter(
            "smsbot_declined_campaigns",
            "Campaigns Mobizon's moderators declined.",
            registry=self.registry,
        )
        for outcome in sorted(SEND_OUTCOMES):
            self.sms_sent.labels(outcome=outcome)
        self._read_database: Callable[[], Awaitable[tuple[float, float]]] | None = None

    def watch_database(self, read: Callable[[], Awaitable[tuple[float, float]]]) -> None:
        """Read the outbox size and the pending count at each scrape, with ``read`` (awaited)."""
        self._read_database = read

    async def refresh_database(self) -> None:
        """Set the outbox and pending gauges from the database; kept as they were if it fails."""
        read = self._read_database
        if read is None:
            return
        try:
            async with asyncio.timeout(DATABASE_READ_TIMEOUT):
                outbox, pending = await read()
        except Exception:  # a scrape must answer: the gauges keep their last values
            logger.warning("metrics: could not read the database", exc_info=True)
            return
        self.outbox.set(outbox)
        self.pending.set(pending)

    def balance_seen(self, balance: Balance) -> None:
        """A balance Mobizon stated: set ``smsbot_balance``."""
        currency = known_label(balance.currency, CURRENCIES)
        self.balance.labels(currency=currency).set(float(balance.amount))

    def sms_send(self, outcome: str) -> None:
        """The SendService's ``on_sent`` hook: Mobizon answered a send (or may not have)."""
        self.sms_sent.labels(outcome=known_label(outcome, SEND_OUTCOMES)).inc()

    def gateway_request(self, method: str, outcome: str, seconds: float) -> None:
        """The MobizonClient's ``on_request`` hook: one HTTP attempt finished."""
        self.gateway_requests.labels(
            method=known_label(method.lower(), REQUEST_METHODS),
            outcome=known_label(outcome, OUTCOMES),
        ).observe(seconds)

    def poll_cycle(self, report: PollReport) -> None:
        """The Poller's ``on_cycle`` hook: one cycle ran (skipped cycles are not observed)."""
        if not report.skipped:
            self.poll_cycles.observe(report.seconds)

    def notification_posted(self, note: Notification) -> None:
        """The Notifier's ``on_posted`` hook: observe the delivery time of a final status."""
        sms = note.sms
        if sms.final_at is None or sms.sent_at is None or note.status != sms.status:
            return
        seconds = (_aware(sms.final_at) - _aware(sms.sent_at)).total_seconds()
        status = known_label(note.status, STATUSES)
        self.delivery.labels(status=status).observe(max(0.0, seconds))

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


METRICS = web.AppKey("metrics", Metrics)


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    """``GET /metrics``: the app's registry in Prometheus text format."""
    metrics = request.app[METRICS]
    await metrics.refresh_database()
    body = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
