"""The gateway's values for a send to many: the campaign, its recipients, what became of each.

A send to many is one Mobizon campaign: ``campaign/create`` (:class:`NewCampaign`), then
``campaign/addrecipients`` (:class:`CampaignRecipient` in, one :class:`AddedRecipient` per row
out, gathered in :class:`RecipientsAdded`), then ``campaign/send`` (:class:`CampaignSent`).
A row Mobizon did not add is data: its ``code`` and what it means (:class:`RecipientProblem`),
for the Slack side to word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from bot.mobizon._types import CampaignStatus

if TYPE_CHECKING:
    from bot.mobizon._errors import MobizonError


class CampaignType(IntEnum):
    """``data[type]`` of ``campaign/create``."""

    BULK = 2  # one text for every recipient
    TEMPLATE = 3  # a text with {placeholders}, filled per recipient


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """A campaign to create: the options a single send has, for many recipients.

    ``template`` makes it a template campaign (type 3): ``{placeholders}`` in ``text`` are
    filled from each recipient's ``values``. ``schedule`` is the wall time to send at in the
    account's zone (aware times are converted), ``validity`` in minutes, ``flash`` sends class 0,
    ``shorten_links`` asks Mobizon to shorten the text's links, ``name`` names the campaign.
    """

    text: str
    template: bool = False
    sender: str | None = None
    schedule: datetime | None = None
    validity: int | None = None
    flash: bool = False
    name: str | None = None
    shorten_links: bool = False

    @property
    def type(self) -> CampaignType:
        """The campaign's ``data[type]``."""
        return CampaignType.TEMPLATE if self.template else CampaignType.BULK


@dataclass(frozen=True, slots=True)
class CampaignRecipient:
    """One recipient to add: international digits (no ``+``) and, for a template, its values.

    ``values`` maps a placeholder's name (without braces) to its text for this recipient.
    """

    number: str
    values: Mapping[str, str] = field(default_factory=dict)


class RecipientProblem(StrEnum):
    """Why Mobizon did not add a recipient: the meaning of a row's non-zero ``code``."""

    EMPTY = "empty"  # 1: no number, or an empty one
    NO_NUMBER = "no_number"  # 2: no number found in the data
    NOT_INTERNATIONAL = "not_international"  # 3: not in international format
    DUPLICATE = "duplicate"  # 4: already in this campaign
    STOP_LIST = "stop_list"  # 5: on a stop list (the account's or Mobizon's)
    COUNTRY_BLOCKED = "country_blocked"  # 6: the account's settings forbid the country
    UNKNOWN_OPERATOR = "unknown_operator"  # 7: operator or country could not be told
    OPERATOR_NOT_SERVED = "operator_not_served"  # 8: Mobizon does not send to the operator
    PLACEHOLDERS_MISSING = "placeholders_missing"  # 20: values missing for the text
    CONTACT_MISSING = "contact_missing"  # 30, 31, 32: contact book entries (unused here)
    SHORT_LINK_FAILED = "short_link_failed"  # 51: a short link could not be made
    SYSTEM_ERROR = "system_error"  # 99: Mobizon failed adding it
    OTHER = "other"  # a code Mobizon does not document


#: What each documented row code of ``campaign/addrecipients`` means.
RECIPIENT_CODES: Mapping[int, RecipientProblem] = {
    1: RecipientProblem.EMPTY,
    2: RecipientProblem.NO_NUMBER,
    3: RecipientProblem.NOT_INTERNATIONAL,
    4: RecipientProblem.DUPLICATE,
    5: RecipientProblem.STOP_LIST,
    6: RecipientProblem.COUNTRY_BLOCKED,
    7: RecipientProblem.UNKNOWN_OPERATOR,
    8: RecipientProblem.OPERATOR_NOT_SERVED,
    20: RecipientProblem.PLACEHOLDERS_MISSING,
    30: RecipientProblem.CONTACT_MISSING,
    31: RecipientProblem.CONTACT_MISSING,
    32: RecipientProblem.CONTACT_MISSING,
    51: RecipientProblem.SHORT_LINK_FAILED,
    99: RecipientProblem.SYSTEM_ERROR,
}


@dataclass(frozen=True, slots=True)
class AddedRecipient:
    """One row of ``campaign/addrecipients``: a recipient and what Mobizon did with it.

    ``code`` 0 means added, and ``message_id`` is its SMS (tracked like any other); any other
    code means not added, ``problem`` saying why. ``number`` is the value as it was sent.
    """

    recipient: str | None
    code: int
    message_id: int | None
    number: str | None

    @property
    def added(self) -> bool:
        """True when Mobizon added the recipient (its SMS is ``message_id``)."""
        return self.code == 0 and self.message_id is not None

    @property
    def problem(self) -> RecipientProblem | None:
        """Why the recipient was not added; ``None`` when it was."""
        if self.code == 0:
            return None
        return RECIPIENT_CODES.get(self.code, RecipientProblem.OTHER)


@dataclass(frozen=True, slots=True)
class RecipientsAdded:
    """What adding a list of recipients to a campaign came to: every row, and any failure.

    ``rows`` holds every row Mobizon answered, in order. When a request failed, ``failure`` is
    its error and ``not_offered`` counts the recipients no request carried after it: the rows
    before it stand (their SMS exist in the campaign).
    """

    rows: tuple[AddedRecipient, ...]
    failure: MobizonError | None = None
    not_offered: int = 0

    @property
    def added(self) -> tuple[AddedRecipient, ...]:
        """The rows Mobizon added, each with its ``message_id``."""
        return tuple(row for row in self.rows if row.added)

    @property
    def refused(self) -> tuple[AddedRecipient, ...]:
        """The rows Mobizon did not add, each with its ``code`` and ``problem``."""
        return tuple(row for row in self.rows if not row.added)

    @property
    def complete(self) -> bool:
        """True when every request was answered (whatever each row's code)."""
        return self.failure is None


@dataclass(frozen=True, slots=True)
class CampaignSent:
    """What ``campaign/send`` answered: the campaign's sending status."""

    campaign_id: int
    status: int

    @property
    def awaiting_moderation(self) -> bool:
        """True when Mobizon holds the campaign for moderation before sending."""
        return self.status == CampaignStatus.AWAITING_MODERATION
