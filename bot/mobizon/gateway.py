"""The gateway as its users see it: the real client, the tracked wrapper and fakes all fit it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.mobizon.types import (
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


class SmsGateway(Protocol):
    """The part of :class:`~bot.mobizon.client.MobizonClient` the rest of smsbot uses."""

    async def send_sms(self, sms: OutgoingSms) -> SentMessage: ...  # noqa: D102  # on MobizonClient

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

    async def get_balance(self) -> Balance: ...  # noqa: D102  # on MobizonClient

    async def list_sender_names(self) -> tuple[SenderName, ...]: ...  # noqa: D102

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo: ...  # noqa: D102

    async def delete_campaign(self, campaign_id: int) -> None: ...  # noqa: D102
