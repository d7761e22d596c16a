"""The async Mobizon client: send SMS, read their statuses, list sent messages, and the account.

Besides the three Message methods it reads the balance (``user/getOwnBalance``), the sender
names (``alphaname/list``) and a campaign (``campaign/getInfo``), deletes a scheduled
campaign (``campaign/delete``), and sends to many as one campaign (``campaign/create``,
``campaign/addRecipients``, ``campaign/send``).

One :class:`MobizonClient` per process, opened with ``async with`` (or closed with
:meth:`MobizonClient.close`); it holds one ``aiohttp.ClientSession``. Every failure is a
:class:`~bot.mobizon.MobizonError` whose text people can read, and none carries
the API key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from bot.mobizon import _wire as wire
from bot.mobizon._account import ACCOUNT_METHODS, AccountMethods
from bot.mobizon._campaign import CAMPAIGN_METHODS, CampaignMethods
from bot.mobizon._errors import MobizonGatewayError
from bot.mobizon._problems import Problem

if TYPE_CHECKING:
    from bot.mobizon._gateway import BeforeRequest
    from bot.mobizon._types import (
        ListCriteria,
        MessagePage,
        OutgoingSms,
        SentMessage,
        SmsStatus,
        Sort,
    )

__all__ = ["REQUEST_METHODS", "MobizonClient"]

_SEND = "sendsmsmessage"
_STATUS = "getsmsstatus"
_LIST = "list"
#: Every ``method`` a :data:`~bot.mobizon.RequestObserver` is called with.
REQUEST_METHODS: Final = frozenset(
    {
        _SEND,
        _STATUS,
        _LIST,
        *(f"{module}/{method}" for module, method in (*ACCOUNT_METHODS, *CAMPAIGN_METHODS)),
    }
)


class MobizonClient(CampaignMethods, AccountMethods):
    """Talks to one Mobizon account; safe to share between concurrent tasks.

    Sends and reads take separate lanes of ``max_concurrency`` requests each, so a long status
    poll never holds up a person's ``/sms send``.

    ``on_request`` observes each HTTP attempt (see :data:`~bot.mobizon.RequestObserver`); ``sleep``
    waits between retries and exists so tests can skip the wait. ``timezone`` is the account's
    time zone: aware times sent are converted into it, and times read come back aware in it
    (without it, times are naive wall time both ways).
    """

    def __repr__(self) -> str:
        return f"MobizonClient(base_url={self._base_url!r}, api_key='***')"

    async def send_sms(
        self, sms: OutgoingSms, *, before_request: BeforeRequest | None = None
    ) -> SentMessage:
        """Send one SMS (its recipient in international digits, no ``+``).

        Only the parameters ``sms`` sets are sent. Never repeated unless the request provably
        never left; a failure with ``outcome_unknown`` may still have sent the SMS.
        ``before_request`` is awaited once, when the send holds its lane (its connection is
        free), just before the request leaves: when it says False nothing is sent and
        :class:`~bot.mobizon.SendWithheld` is raised; what it raises, nothing sent, too.
        """
        pairs = wire.send_sms_pairs(sms, zone=self._zone)
        data = await self._call(_SEND, pairs, sending=True, before_request=before_request)
        try:
            return wire.parse_sent_message(data)
        except wire.MalformedAnswerError:
            problem = "Mobizon accepted the SMS but its answer could not be read"
        raise MobizonGatewayError(
            problem, sending=True, outcome_unknown=True, reason=Problem.UNREADABLE_SENT
        )

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Ask the current status of each message id; ids Mobizon doesn't know are absent.

        Any number of ids: duplicates are dropped, the rest asked in batches of at most
        100 with at most ``max_concurrency`` requests in flight. No ids, no request.
        """
        unique = list(dict.fromkeys(ids))
        batches = [
            unique[start : start + wire.MAX_IDS_PER_STATUS_REQUEST]
            for start in range(0, len(unique), wire.MAX_IDS_PER_STATUS_REQUEST)
        ]
        tasks = [asyncio.ensure_future(self._status_batch(batch)) for batch in batches]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:
            # Stop the other batches rather than leave them running against a closing client.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        found = {status.id: status for answer in answers for status in answer}
        return {message_id: found[message_id] for message_id in unique if message_id in found}

    async def list_messages(
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage:
        """One page (0-based) of sent messages matching ``criteria``.

        Raises ValueError, before any request, for a page size other than 25, 50 or 100,
        a negative page or an unknown sort field.
        """
        pairs = wire.list_pairs(
            criteria,
            page=page,
            page_size=page_size,
            sort=sort,
            with_number_info=with_number_info,
            zone=self._zone,
        )
        data = await self._call(_LIST, pairs, sending=False)
        try:
            return wire.parse_message_page(data, page=page, page_size=page_size, zone=self._zone)
        except wire.MalformedAnswerError:
            problem = "Mobizon's list of messages could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_LIST)

    async def _status_batch(self, ids: list[int]) -> list[SmsStatus]:
        """One getSMSStatus request of at most 100 ids."""
        data = await self._call(_STATUS, wire.status_pairs(ids), sending=False)
        try:
            return wire.parse_statuses(data, self._zone)
        except wire.MalformedAnswerError:
            problem = "Mobizon's delivery statuses could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_STATUSES)
