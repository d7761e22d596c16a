"""The gateway as its users see it: the real client, the tracked wrapper and fakes all fit it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from bot.mobizon._types import (
    Balance,
    CampaignInfo,
    ListCriteria,
    MessagePage,
    OutgoingSms,
    SenderName,
    SentMessage,
    SmsStatus,
    Sort,
)

#: Awaited by a send once it holds its connection slot, just before its request leaves: False
#: (nothing may be sent) stops the send with :class:`SendWithheld`.
BeforeRequest = Callable[[], Awaitable[bool]]


class SendWithheld(Exception):  # noqa: N818  # a decision of the caller, not an error
    """The send's ``before_request`` said no: its request never left, nothing was sent."""


class SmsGateway(Protocol):
    """The part of :class:`~bot.mobizon.MobizonClient` the rest of smsbot uses."""

    async def send_sms(  # documented on MobizonClient
        self, sms: OutgoingSms, *, before_request: BeforeRequest | None = None
    ) -> SentMessage: ...

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]: ...

    async def list_messages(  # documented on MobizonClient
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage: ...

    async def get_balance(self) -> Balance: ...  # on MobizonClient

    async def list_sender_names(self) -> tuple[SenderName, ...]: ...

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo: ...

    async def delete_campaign(self, campaign_id: int) -> None: ...
