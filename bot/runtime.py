"""The process's runtime objects, shared by the app's lifetimes through one typed app key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from bot.inflight import InFlight, TrackedGateway
from bot.metrics import MeteredGateway, Metrics
from bot.sending.service import SendService
from bot.sending.types import UnrecordedSends
from bot.settings import Settings
from handlers.context import HandlerConfig, Services

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.delivery.poller import Poller
    from bot.mobizon.client import MobizonClient
    from bot.simulator import MobizonSimulator
    from bot.socket_mode import SocketMode
    from handlers.notifier import Notifier
    from storage.store import Store

Probe = Callable[[], bool]


@dataclass
class Health:
    """What ``GET /healthz`` checks besides the database: each probe set by the lifetime it watches.

    ``None`` is "not watched" (no scheduler before delivery tracking starts is reported as not
    running; Socket Mode's probe exists only in Socket Mode).
    """

    scheduler: Probe | None = None
    slack_socket: Probe | None = None

    def checks(self) -> dict[str, bool]:
        """Each check's name and its result, in a fixed order."""
        found = {"scheduler": self.scheduler is not None and self.scheduler()}
        if self.slack_socket is not None:
            found["slack_socket"] = self.slack_socket()
        return found


@dataclass
class Runtime:
    """Everything the process opened, in the order it opened it; closed in reverse.

    A resource is set by the lifetime that opens it and reset by it when closed.
    """

    settings: Settings
    store: Store | None = None
    gateway: MobizonClient | None = None
    simulator: MobizonSimulator | None = None
    slack: AsyncWebClient | None = None
    bolt: AsyncApp | None = None
    notifier: Notifier | None = None
    poller: Poller | None = None
    socket_mode: SocketMode | None = None
    metrics: Metrics = field(default_factory=Metrics)
    #: Slack listener tasks still working (a send in flight); shutdown waits for them.
    inflight: InFlight = field(default_factory=InFlight)
    #: Sends Mobizon took whose record waits for the database (see UnrecordedSends).
    unrecorded: UnrecordedSends = field(default_factory=UnrecordedSends)
    health: Health = field(default_factory=Health)
    #: The current time in UTC (webhook event ages); tests replace it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def services(self) -> Services:
        """The services listeners receive through Bolt context."""
        if self.store is None or self.gateway is None:
            msg = "the runtime is not started"
            raise RuntimeError(msg)
        settings = self.settings
        gateway = TrackedGateway(MeteredGateway(self.gateway, self.metrics), self.inflight)
        return Services(
            store=self.store,
            gateway=gateway,
            sending=SendService(
                self.store,
                gateway,
                unrecorded=self.unrecorded,
                may_send=settings.may_send,
                sandbox=settings.sandbox,
            ),
            config=HandlerConfig(
                default_region=settings.default_region,
                allowed_users=settings.allowed_users,
                readers=settings.readers,
                sandbox=settings.sandbox,
                timezone=settings.mobizon_timezone,
            ),
        )

    def wake_notifier(self) -> None:
        """Ask the notifier to drain now (a status was applied)."""
        if self.notifier is not None:
            self.notifier.wake()


RUNTIME = web.AppKey("runtime", Runtime)
