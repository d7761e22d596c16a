"""The process's runtime objects, shared by the app's lifetimes through one typed app key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.metrics import MeteredGateway, Metrics
from bot.settings import Settings
from handlers.context import HandlerConfig, Services, UnrecordedSends

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.delivery.notifier import Notifier
    from bot.delivery.poller import Poller
    from bot.mobizon.client import MobizonClient
    from bot.simulator import MobizonSimulator
    from bot.socket_mode import SocketMode
    from storage.store import Store


@dataclass
class Runtime:
    """Everything the process opened, in the order it opened it; closed in reverse."""

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
    inflight: set[asyncio.Task[object]] = field(default_factory=set)
    #: Sends Mobizon took whose record waits for the database (see UnrecordedSends).
    unrecorded: UnrecordedSends = field(default_factory=UnrecordedSends)
    extras: dict[str, Any] = field(default_factory=dict)
    #: The current time in UTC (webhook event ages); tests replace it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def services(self) -> Services:
        """The services listeners receive through Bolt context."""
        if self.store is None or self.gateway is None:
            msg = "the runtime is not started"
            raise RuntimeError(msg)
        return Services(
            store=self.store,
            gateway=MeteredGateway(self.gateway, self.metrics, self.inflight),
            config=HandlerConfig(
                default_region=self.settings.default_region,
                allowed_users=self.settings.allowed_users,
                readers=self.settings.readers,
                sandbox=self.settings.sandbox,
                timezone=self.settings.mobizon_timezone,
            ),
            unrecorded=self.unrecorded,
        )

    def wake_notifier(self) -> None:
        """Ask the notifier to drain now (a status was applied)."""
        if self.notifier is not None:
            self.notifier.wake()


RUNTIME = web.AppKey("runtime", Runtime)
