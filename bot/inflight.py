"""Graceful shutdown's view of the gateway: the listener tasks at work, waited for at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.mobizon import (
    Balance,
    BeforeRequest,
    CampaignInfo,
    ListCriteria,
    MessagePage,
    OutgoingSms,
    SenderName,
    SentMessage,
    SmsGateway,
    SmsStatus,
    Sort,
)

logger = logging.getLogger(__name__)


class InFlight:
    """The tasks that called the gateway (a Slack listener after its ack) and have not finished."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[object]] = set()

    def track_current(self) -> None:
        """Remember the running task until it is done."""
        task = asyncio.current_task()
        if task is not None and task not in self.tasks:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def wait(self, deadline: float) -> None:
        """Let the tasks finish within ``deadline`` seconds; cancel the ones still running."""
        pending = [task for task in self.tasks if not task.done()]
        if not pending:
            return
        logger.info("waiting for sends in flight", extra={"count": len(pending)})
        _, late = await asyncio.wait(pending, timeout=deadline)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)
            logger.warning(
                "sends still in flight at the shutdown deadline were cancelled",
                extra={"count": len(late)},
            )


class TrackedGateway:
    """A gateway whose callers are tracked in :class:`InFlight`, so shutdown waits for them.

    The task that calls it (a Slack listener, which Bolt runs in a task of its own after the
    ack) then gets to record the SMS and post its message (or to answer a status or a search).
    """

    def __init__(self, gateway: SmsGateway, inflight: InFlight) -> None:
        self._gateway = gateway
        self._inflight = inflight

    async def send_sms(  # noqa: D102  # on MobizonClient
        self, sms: OutgoingSms, *, before_request: BeforeRequest | None = None
    ) -> SentMessage:
        self._inflight.track_current()
        return await self._gateway.send_sms(sms, before_request=before_request)

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:  # noqa: D102
        self._inflight.track_current()
        return await self._gateway.get_sms_status(ids)

    async def list_messages(  # noqa: D102  # documented on MobizonClient
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage:
        self._inflight.track_current()
        return await self._gateway.list_messages(
            criteria, page=page, page_size=page_size, sort=sort, with_number_info=with_number_info
        )

    async def get_balance(self) -> Balance:  # noqa: D102  # on MobizonClient
        self._inflight.track_current()
        return await self._gateway.get_balance()

    async def list_sender_names(self) -> tuple[SenderName, ...]:  # noqa: D102
        self._inflight.track_current()
        return await self._gateway.list_sender_names()

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo:  # noqa: D102
        self._inflight.track_current()
        return await self._gateway.get_campaign_info(campaign_id)

    async def delete_campaign(self, campaign_id: int) -> None:  # noqa: D102
        self._inflight.track_current()
        await self._gateway.delete_campaign(campaign_id)
