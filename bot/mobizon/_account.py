"""The client's account methods: balance, sender names, a campaign's state and its deletion.

The layer of :class:`~bot.mobizon.MobizonClient` between its transport and its Message
methods: each method is one ``_call`` of the transport (its lanes, retries and error words),
read with :mod:`bot.mobizon._account_wire`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.mobizon import _account_wire as account_wire
from bot.mobizon._errors import (
    MobizonCampaignDeleteUnknownError,
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
)
from bot.mobizon._failures import may_have_taken_effect
from bot.mobizon._problems import Problem
from bot.mobizon._refusals import (
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonNotFoundError,
)
from bot.mobizon._transport import Transport
from bot.mobizon._wire import MalformedAnswerError

if TYPE_CHECKING:
    from bot.mobizon._types import Balance, CampaignInfo, SenderName

_BALANCE = ("user", "getownbalance")
_SENDER_NAMES = ("alphaname", "list")
_CAMPAIGN_INFO = ("campaign", "getinfo")
_CAMPAIGN_DELETE = ("campaign", "delete")
#: Every (module, method) the account methods call.
ACCOUNT_METHODS = (_BALANCE, _SENDER_NAMES, _CAMPAIGN_INFO, _CAMPAIGN_DELETE)
# Code 10 of campaign/delete: "the campaign cannot be deleted" (sending started or near).
_NOT_DELETABLE = 10
# No account has this many sender names; a gateway paging forever stops here.
_MAX_SENDER_NAME_PAGES = 50


class AccountMethods(Transport):
    """The account's calls, over the client's transport and time zone."""

    async def get_balance(self) -> Balance:
        """The account's balance and currency (``user/getOwnBalance``); a read, retried."""
        module, method = _BALANCE
        data = await self._call(method, [], sending=False, module=module)
        try:
            return account_wire.parse_balance(data)
        except MalformedAnswerError:
            problem = "Mobizon's answer about the balance could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_BALANCE)

    async def list_sender_names(self) -> tuple[SenderName, ...]:
        """Every sender name of the account (``alphaname/list``, all pages), in Mobizon's order.

        A read, retried. Entries without a name are skipped; duplicates are kept as sent.
        """
        module, method = _SENDER_NAMES
        names: list[SenderName] = []
        seen = 0
        for page in range(_MAX_SENDER_NAME_PAGES):
            data = await self._call(
                method, account_wire.sender_names_pairs(page), sending=False, module=module
            )
            found, total, count = self._sender_name_page(data)
            names.extend(found)
            seen += count
            if count < account_wire.SENDER_NAMES_PAGE_SIZE or (total is not None and seen >= total):
                break
        return tuple(names)

    @staticmethod
    def _sender_name_page(data: object) -> tuple[list[SenderName], int | None, int]:
        """Read one alphaname/list page, or raise a gateway error in words."""
        try:
            return account_wire.parse_sender_name_page(data)
        except MalformedAnswerError:
            problem = "Mobizon's list of sender names could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_SENDER_NAMES)

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo:
        """Where campaign ``campaign_id`` stands (``campaign/getInfo``); a read, retried.

        Raises :class:`MobizonCampaignNotFoundError` when Mobizon has no such campaign.
        """
        module, method = _CAMPAIGN_INFO
        try:
            data = await self._call(
                method, account_wire.campaign_pairs(campaign_id), sending=False, module=module
            )
        except MobizonNotFoundError as error:
            missing = MobizonCampaignNotFoundError(
                campaign_id, error.code or 2, error.api_message, error.data
            )
        else:
            try:
                return account_wire.parse_campaign_info(data, self._zone, campaign_id=campaign_id)
            except MalformedAnswerError:
                problem = "Mobizon's answer about the campaign could not be read"
            raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_CAMPAIGN)
        raise missing

    async def delete_campaign(self, campaign_id: int) -> None:
        """Delete campaign ``campaign_id`` (``campaign/delete``), so it is never sent.

        Mobizon allows it before sending starts, and for a scheduled campaign until 5 minutes
        before its start. Never repeated unless the request provably never left. Raises
        :class:`MobizonCampaignNotFoundError` (code 2), :class:`MobizonCampaignNotDeletableError`
        (code 10: too late), :class:`MobizonCampaignDeleteUnknownError` when the outcome is
        unknown, or another :class:`MobizonError` when it was refused or never sent.
        """
        module, method = _CAMPAIGN_DELETE
        try:
            await self._call(
                method,
                account_wire.campaign_pairs(campaign_id),
                sending=False,
                module=module,
                writing=True,
            )
        except MobizonNotFoundError as error:
            failure: MobizonError = MobizonCampaignNotFoundError(
                campaign_id, error.code or 2, error.api_message, error.data
            )
        except MobizonGatewayError as error:
            if error.code == _NOT_DELETABLE:
                failure = MobizonCampaignNotDeletableError(
                    campaign_id, _NOT_DELETABLE, error.api_message or "", error.data
                )
            elif may_have_taken_effect(error):
                failure = MobizonCampaignDeleteUnknownError(campaign_id, error)
            else:
                raise
        except MobizonNetworkError as error:
            if not may_have_taken_effect(error):
                raise
            failure = MobizonCampaignDeleteUnknownError(campaign_id, error)
        else:
            return
        raise failure
