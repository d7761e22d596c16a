"""What listeners receive through Bolt context: the database and the domain's services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

from bot.sms.sending.account import AccountServices
from bot.sms.sending.campaigns import CampaignService
from bot.sms.sending.service import SendService
from handlers.languages import PeopleLanguages
from storage.store import Store

if TYPE_CHECKING:
    from handlers.first_posts import FirstPost
    from storage.records import SmsRecord

CONTEXT_KEY = "smsbot"


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    """The settings listeners need, taken from the process settings at start."""

    default_region: str = "BR"
    allowed_users: frozenset[str] = frozenset()
    readers: frozenset[str] = frozenset()
    sandbox: bool = False
    #: The Mobizon account's time zone: ``--at`` and find's dates are read in it.
    timezone: tzinfo = UTC
    #: The workspace language (``SMSBOT_LANGUAGE``, as a catalogue name): channel posts are in it.
    language: str = "en"

    def may_read_all(self, user_id: str) -> bool:
        """True when ``user_id`` may read SMS sent from any channel (``/sms find``, any id).

        With neither list set, everyone may. Otherwise only the senders of
        ``SMSBOT_ALLOWED_USERS`` and the read-only ``SMSBOT_READERS``: everyone else sees only
        the SMS smsbot recorded as sent from the channel they are in.
        """
        if not self.allowed_users and not self.readers:
            return True
        return user_id in self.allowed_users or user_id in self.readers


@dataclass(frozen=True, slots=True)
class Services:
    """The objects a listener works with; set once per request by a middleware.

    Sends go through ``sending`` only; ``account`` cancels, looks up, and keeps templates.
    """

    store: Store
    sending: SendService
    account: AccountServices
    config: HandlerConfig = field(default_factory=HandlerConfig)
    #: Asks the notifier to make a sent SMS's channel post now; what came of it, waited for a
    #: bounded time (``None``: no notifier runs, the post comes later).
    first_post: Callable[[SmsRecord], Awaitable[FirstPost]] | None = None
    #: The account's sender names (Mobizon's ``alphaname/list``, cached); ``None`` when they
    #: cannot be fetched.
    sender_names: Callable[[], Awaitable[Sequence[str] | None]] | None = None
    #: Each person's language (their Slack locale, kept); ``None``: everyone gets the workspace's.
    languages: PeopleLanguages | None = None
    #: Sends to many: prepared, confirmed and run (``None`` where no campaign can be sent).
    campaigns: CampaignService | None = None
    #: Called first thing in each listener's own task (:func:`listener_started`): the process
    #: tracks the task, so a graceful stop waits for the listener's work.
    on_listener_start: Callable[[], None] | None = None
    #: Waits, a bounded time, until no request to the process waits for its answer: a send
    #: acknowledged in a burst of commands goes to Mobizon once the burst's acks are out.
    after_acks: Callable[[], Awaitable[None]] | None = None


def campaign_service(svc: Services) -> CampaignService:
    """The campaign service the process wired for listeners (every process wires one)."""
    if svc.campaigns is None:
        msg = "the campaign service is not wired for listeners"
        raise RuntimeError(msg)  # a bug: reporting_errors answers it
    return svc.campaigns


def services(context: Mapping[str, Any]) -> Services:
    """Return the services a middleware put in Bolt's ``context``."""
    found = context[CONTEXT_KEY]
    if not isinstance(found, Services):
        msg = "smsbot services are missing from the Bolt context"
        raise TypeError(msg)
    return found


_on_listener_start: ContextVar[Callable[[], None] | None] = ContextVar(
    "smsbot_on_listener_start", default=None
)


def watch_listeners(services: Services) -> None:
    """Have the listeners of the rest of this request call ``services.on_listener_start``.

    For the services middleware, in the request's task: Bolt starts each listener in a task
    of its own once every middleware has returned, and that task copies this one's context
    (as the active locale reaches it, :func:`handlers.i18n.set_locale`).
    """
    _on_listener_start.set(services.on_listener_start)


def listener_started() -> None:
    """Tell the process a listener's task is starting (the one listener wrapper calls it)."""
    callback = _on_listener_start.get()
    if callback is not None:
        callback()
