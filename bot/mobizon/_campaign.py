"""The client's campaign methods: a send to many as one campaign, created, filled and sent.

The layer of :class:`~bot.mobizon.MobizonClient` for ``campaign/create``,
``campaign/addRecipients`` and ``campaign/send``, each one ``_call`` of the transport read with
:mod:`bot.mobizon._campaign_wire`. None is repeated unless its request provably never left
(a second create makes a second campaign, a second add adds the recipients twice).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.mobizon import _campaign_wire as campaign_wire
from bot.mobizon._campaign_types import (
    AddedRecipient,
    CampaignRecipient,
    CampaignSent,
    NewCampaign,
    RecipientsAdded,
)
from bot.mobizon._errors import MobizonError, MobizonGatewayError
from bot.mobizon._problems import Problem
from bot.mobizon._refusals import MobizonCampaignNotFoundError, MobizonNotFoundError
from bot.mobizon._transport import Transport
from bot.mobizon._wire import MalformedAnswerError

_CREATE = ("campaign", "create")
_ADD_RECIPIENTS = ("campaign", "addrecipients")
_SEND = ("campaign", "send")
#: Every (module, method) the campaign methods call.
CAMPAIGN_METHODS = (_CREATE, _ADD_RECIPIENTS, _SEND)
# addrecipients' envelope codes that still carry one row per recipient: some added, none added
_ROWS_CODES = frozenset({98, 99})


class CampaignMethods(Transport):
    """A send to many, over the client's transport and time zone."""

    async def create_campaign(self, campaign: NewCampaign) -> int:
        """Create ``campaign`` (``campaign/create``) and return its id; nothing is sent yet.

        Type 2, or type 3 for a template. Raises a :class:`~bot.mobizon.MobizonError` when
        refused (a wrong option: :class:`~bot.mobizon.MobizonValidationError`) or failed.
        """
        module, method = _CREATE
        pairs = campaign_wire.create_pairs(campaign, zone=self._zone)
        data = await self._call(method, pairs, sending=False, module=module, writing=True)
        try:
            return campaign_wire.parse_campaign_id(data)
        except MalformedAnswerError:
            problem = "Mobizon created the campaign but its id could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_CAMPAIGN)

    async def add_campaign_recipients(
        self, campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> tuple[AddedRecipient, ...]:
        """Add ``recipients`` to campaign ``campaign_id`` in one ``campaign/addrecipients``.

        ``template`` sends each recipient's values for the placeholders, and has Mobizon refuse
        a recipient missing one (code 20). Returns one row per recipient Mobizon answered for:
        code 0 with its ``message_id``, or the code saying why it was not added (also when
        Mobizon added none). Raises ValueError, before any request, beyond 500 recipients or
        1,000 form fields; a :class:`~bot.mobizon.MobizonError` when refused or failed
        (:class:`~bot.mobizon.MobizonCampaignNotFoundError` for an unknown campaign).
        """
        _module, method = _ADD_RECIPIENTS
        pairs = campaign_wire.add_recipients_pairs(campaign_id, recipients, template=template)
        data = await self._campaign_call(method, pairs, campaign_id, answered=_ROWS_CODES)
        try:
            return tuple(campaign_wire.parse_added_rows(data))
        except MalformedAnswerError:
            problem = "Mobizon's answer about the recipients added could not be read"
        raise MobizonGatewayError(problem, reason=Problem.UNREADABLE_CAMPAIGN)

    async def add_recipients_in_chunks(
        self, campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> RecipientsAdded:
        """Add every recipient to campaign ``campaign_id``, one request after another.

        Each request carries at most 500 recipients and 1,000 form fields (fewer recipients
        when their values would pass that); the campaign is locked while one is added, so the
        next waits for the one before. A failed request stops there: the result keeps the rows
        answered before it, the error and how many recipients were never offered. Raises
        ValueError, before any request, for a recipient whose values cannot fit in a request.
        """
        chunks = list(campaign_wire.recipient_chunks(recipients, template=template))
        rows: list[AddedRecipient] = []
        offered = 0
        for chunk in chunks:
            try:
                rows += await self.add_campaign_recipients(campaign_id, chunk, template=template)
            except MobizonError as error:
                failure = error
                break
            offered += len(chunk)
        else:
            return RecipientsAdded(rows=tuple(rows))
        # the failed chunk's recipients may or may not be in the campaign; those after it
        # were never offered
        after = len(recipients) - offered - len(chunk)
        return RecipientsAdded(rows=tuple(rows), failure=failure, not_offered=after)

    async def send_campaign(self, campaign_id: int) -> CampaignSent:
        """Send campaign ``campaign_id`` (``campaign/send``): to moderation, or out at once.

        Never repeated unless the request provably never left; a failure with
        ``outcome_unknown`` may still have started the sending (``campaign/getInfo`` tells).
        Raises :class:`~bot.mobizon.MobizonCampaignNotFoundError` for an unknown campaign.
        """
        _module, method = _SEND
        pairs = [("id", str(campaign_id))]
        data = await self._campaign_call(method, pairs, campaign_id, sending=True)
        try:
            return CampaignSent(campaign_id, campaign_wire.parse_send_status(data))
        except MalformedAnswerError:
            problem = "Mobizon sent the campaign but its answer could not be read"
        raise MobizonGatewayError(
            problem, sending=True, outcome_unknown=True, reason=Problem.UNREADABLE_CAMPAIGN
        )

    async def _campaign_call(
        self,
        method: str,
        pairs: list[tuple[str, str]],
        campaign_id: int,
        *,
        sending: bool = False,
        answered: frozenset[int] = frozenset(),
    ) -> object:
        """A change to campaign ``campaign_id``; code 2 says there is no such campaign."""
        module = _CREATE[0]
        try:
            return await self._call(
                method, pairs, sending=sending, module=module, writing=True, answered=answered
            )
        except MobizonNotFoundError as error:
            missing = MobizonCampaignNotFoundError(
                campaign_id, error.code or 2, error.api_message, error.data
            )
        raise missing
