"""What listeners receive through Bolt context: the database, the gateway, and their settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from bot.mobizon.types import ListCriteria, MessagePage, SentMessage, SmsStatus, Sort
from storage.store import Store

CONTEXT_KEY = "smsbot"


class SmsGateway(Protocol):
    """The part of the Mobizon client that listeners use (the real client or a sandbox one)."""

    async def send_sms(  # noqa: D102  # documented on MobizonClient
        self,
        recipient: str,
        text: str,
        *,
        sender: str | None = None,
        name: str | None = None,
        deferred_to: datetime | None = None,
        validity: int | None = None,
        mclass: int | None = None,
        shorten_links: bool | None = None,
    ) -> SentMessage: ...

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]: ...  # noqa: D102

    async def list_messages(  # noqa: D102  # documented on MobizonClient
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage: ...


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    """The settings listeners need, taken from the process settings at start."""

    default_region: str = "BR"
    allowed_users: frozenset[str] = frozenset()
    readers: frozenset[str] = frozenset()
    sandbox: bool = False
    #: The Mobizon account's time zone: ``--at`` and find's dates are read in it.
    timezone: tzinfo = UTC

    def may_send(self, user_id: str) -> bool:
        """True when ``user_id`` may send SMS (an empty allow-list lets everyone)."""
        return not self.allowed_users or user_id in self.allowed_users

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
class AcceptedSend:
    """Mobizon's answer to a send (it took the SMS) that could not be recorded yet."""

    sms_id: int
    message_id: int
    campaign_id: int
    campaign_status: int


class UnrecordedSends:
    """Sends Mobizon took whose record failed (the database stayed locked): kept until recorded.

    The send path puts them here; delivery tracking records them each cycle and posts their
    channel message, so they are tracked in this process. Only in memory: after a restart the
    claim left behind is settled by looking the SMS up in Mobizon.
    """

    def __init__(self) -> None:
        self._sends: dict[int, AcceptedSend] = {}

    def add(self, send: AcceptedSend) -> None:
        """Keep ``send`` until :meth:`discard` (it was recorded, or can never be)."""
        self._sends[send.sms_id] = send

    def discard(self, sms_id: int) -> None:
        """Forget the send of SMS ``sms_id``."""
        self._sends.pop(sms_id, None)

    def waiting(self) -> list[AcceptedSend]:
        """The sends still to record, oldest first."""
        return list(self._sends.values())

    def __contains__(self, sms_id: object) -> bool:
        return sms_id in self._sends


@dataclass(frozen=True, slots=True)
class Services:
    """The objects a listener works with; set once per request by a middleware."""

    store: Store
    gateway: SmsGateway
    config: HandlerConfig = field(default_factory=HandlerConfig)
    unrecorded: UnrecordedSends = field(default_factory=UnrecordedSends)


def services(context: Mapping[str, Any]) -> Services:
    """Return the services a middleware put in Bolt's ``context``."""
    found = context[CONTEXT_KEY]
    if not isinstance(found, Services):
        msg = "smsbot services are missing from the Bolt context"
        raise TypeError(msg)
    return found
