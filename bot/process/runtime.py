"""The process's runtime objects, shared by the app's lifetimes through one typed app key."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from bot.process.inflight import InFlight
from bot.process.logs import LogThrottle
from bot.process.metrics import Metrics
from bot.process.quiet import InFlightRequests
from bot.process.settings import Settings
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.sending.account import account_services
from bot.sms.sending.campaigns import CampaignLimits, CampaignService
from bot.sms.sending.senders import SenderNames
from bot.sms.sending.service import SendService
from bot.sms.sending.types import UnrecordedSends
from handlers.context import HandlerConfig, Services
from handlers.first_posts import FirstPost, PostState
from handlers.languages import PeopleLanguages
from storage import replicas

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.mobizon import MobizonClient
    from bot.simulator import MobizonSimulator
    from bot.sms.delivery.poller import Poller
    from handlers.notifier import Notifier
    from storage.records import SmsRecord
    from storage.store import Store

Probe = Callable[[], bool]


class SlackSocket(Protocol):
    """The open Socket Mode connection, as the runtime holds it (:mod:`bot.process.socket_mode`)."""

    def connected(self) -> bool:
        """True while the WebSocket to Slack is open."""
        ...


def new_replica_id() -> str:
    """A name for this process among the replicas: its host, its pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


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


class NotStartedError(RuntimeError):
    """A resource was asked for before its lifetime opened it (or after it closed it)."""


@dataclass(frozen=True, slots=True)
class Core:
    """The database and the gateway, opened together: what listeners and delivery tracking use.

    ``simulator`` is the built-in Mobizon simulator in sandbox mode, else ``None``.
    """

    store: Store
    gateway: MobizonClient
    simulator: MobizonSimulator | None = None


@dataclass(frozen=True, slots=True)
class SlackSide:
    """The listeners' Slack Web API client and the Bolt app that uses it."""

    client: AsyncWebClient
    bolt: AsyncApp


@dataclass(frozen=True, slots=True)
class Tracking:
    """Delivery tracking's running parts."""

    notifier: Notifier
    poller: Poller


@dataclass
class Runtime:
    """The process's state: each group of resources exists only once its lifetime opened all of it.

    ``core`` (database and gateway), ``slack`` (client and Bolt), ``tracking`` (notifier and
    poller) and ``socket_mode`` are set by their lifetimes, in that order, and reset when closed.
    """

    settings: Settings
    core: Core | None = None
    slack: SlackSide | None = None
    tracking: Tracking | None = None
    socket_mode: SlackSocket | None = None
    metrics: Metrics = field(default_factory=Metrics)
    #: Slack listener tasks still working (a send in flight, say); shutdown waits for them.
    inflight: InFlight = field(default_factory=InFlight)
    #: HTTP requests waiting for their answer: a send's request to Mobizon waits for the acks.
    requests: InFlightRequests = field(default_factory=InFlightRequests)
    #: Sends Mobizon took whose record waits for the database (see UnrecordedSends).
    unrecorded: UnrecordedSends = field(default_factory=UnrecordedSends)
    health: Health = field(default_factory=Health)
    #: Warnings anyone can cause (refused requests): at most one line a minute for each reason.
    log_throttle: LogThrottle = field(default_factory=LogThrottle)
    #: The account's sender names, cached (``--from`` is checked against them).
    sender_names: SenderNames | None = None
    #: Each person's Slack language, kept for an hour (their replies and DMs are in it).
    languages: PeopleLanguages | None = None
    #: The process's time (webhook event ages); tests replace it.
    clock: Clock = SYSTEM_CLOCK
    #: This process among the replicas on the database: its claims carry it.
    replica_id: str = field(default_factory=new_replica_id)

    async def register_replica(self, store: Store) -> None:
        """Record this process as one of the replicas on the database (on SQLite, the only one)."""
        await store.write(
            replicas.register,
            self.replica_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            only_one=store.engine == "sqlite",
        )

    def started(self) -> Core:
        """The database and the gateway; :class:`NotStartedError` before they are open."""
        if self.core is None:
            msg = "the database and the gateway are not open"
            raise NotStartedError(msg)
        return self.core

    def services(self) -> Services:
        """The services listeners receive through Bolt context."""
        core = self.started()
        settings = self.settings
        return Services(
            store=core.store,
            sending=SendService(
                core.store,
                core.gateway,
                unrecorded=self.unrecorded,
                may_send=settings.may_send,
                sandbox=settings.sandbox,
                senders=self._sender_names(core),
                on_sent=self.metrics.sms_send,
                replica=self.replica_id,
            ),
            account=account_services(
                core.store,
                core.gateway,
                may_send=settings.may_send,
                allowed_users=settings.allowed_users,
                zone=settings.mobizon_timezone,
                sandbox=settings.sandbox,
                on_balance=self.metrics.balance_seen,
                wake_notifier=self.wake_notifier,
                clock=self.clock,
            ),
            campaigns=CampaignService(
                core.store,
                core.gateway,
                default_region=settings.default_region,
                may_send=settings.may_send,
                sandbox=settings.sandbox,
                replica=self.replica_id,
                limits=CampaignLimits(
                    confirm_above=settings.confirm_above, max_recipients=settings.max_recipients
                ),
                clock=self.clock,
            ),
            sender_names=self._sender_names(core).names,
            config=HandlerConfig(
                default_region=settings.default_region,
                allowed_users=settings.allowed_users,
                readers=settings.readers,
                sandbox=settings.sandbox,
                timezone=settings.mobizon_timezone,
                language=settings.language,
            ),
            first_post=self.first_post,
            languages=self.people_languages(),
            on_listener_start=self.inflight.track_current,
            after_acks=self.requests.quiet,
        )

    def people_languages(self) -> PeopleLanguages:
        """Each person's language, one cache for the process's life."""
        if self.languages is None:
            self.languages = PeopleLanguages(self.settings.language)
        return self.languages

    def _sender_names(self, core: Core) -> SenderNames:
        """The account's sender names, one cache for the process's life."""
        if self.sender_names is None:
            self.sender_names = SenderNames(core.gateway)
        return self.sender_names

    def wake_notifier(self) -> None:
        """Ask the notifier to drain now (a status was applied)."""
        if self.tracking is not None:
            self.tracking.notifier.wake()

    async def first_post(self, sms: SmsRecord) -> FirstPost:
        """Have the notifier make a sent SMS's channel post now; what came of it, in a while."""
        if self.tracking is None:
            return FirstPost(PostState.LATER)  # the outbox keeps it for the notifier
        return await self.tracking.notifier.first_posts.wait(sms)


RUNTIME = web.AppKey("runtime", Runtime)
