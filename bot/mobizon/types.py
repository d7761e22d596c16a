"""The gateway's value types: the SMS to send, and the typed answers of the Mobizon client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

#: Page sizes Mobizon's ``message/list`` accepts.
PAGE_SIZES = (25, 50, 100)

#: Fields Mobizon's ``message/list`` can sort by (``sort[<field>]=ASC|DESC``).
SORT_FIELDS = (
    "id",
    "campaignId",
    "from",
    "to",
    "text",
    "status",
    "startSendTs",
    "statusUpdateTs",
    "segNum",
)


#: Mobizon's timestamp format (``YYYY-MM-DD HH:MM:SS``, wall time in the account's zone): on the
#: wire, in the simulator, and for the ``--at`` wall time smsbot stores.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_timestamp(moment: datetime) -> str:
    """``moment``'s wall-clock time (its zone ignored) in :data:`TIMESTAMP_FORMAT`."""
    return moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """A naive wall time read from :data:`TIMESTAMP_FORMAT`."""
    return datetime.strptime(text, TIMESTAMP_FORMAT)  # noqa: DTZ007  # a wall time, like Mobizon's


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS to send: what every surface builds and the gateway sends.

    ``recipient`` is international digits without ``+``. ``schedule`` is the wall time to send at,
    in the Mobizon account's zone (aware times are converted to it on the wire). ``validity`` is
    in minutes. ``flash`` sends it as class 0 (shown, not stored). ``shorten_links`` asks Mobizon
    to shorten the links in the text (``params[shortenLinks]=1``).
    """

    recipient: str
    text: str
    sender: str | None = None
    schedule: datetime | None = None
    validity: int | None = None
    flash: bool = False
    campaign_name: str | None = None
    shorten_links: bool = False


class CampaignStatus(IntEnum):
    """The ``status`` sendSmsMessage answers with: where the new campaign stands."""

    AWAITING_MODERATION = 1
    SENT = 2


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What Mobizon answered to one ``sendSmsMessage``."""

    message_id: int
    campaign_id: int
    campaign_status: int

    @property
    def awaiting_moderation(self) -> bool:
        """True when Mobizon holds the campaign for moderation before sending."""
        return self.campaign_status == CampaignStatus.AWAITING_MODERATION


@dataclass(frozen=True, slots=True)
class SmsStatus:
    """One entry of ``getSMSStatus``: the delivery state of one message."""

    id: int
    status: str
    segments: int | None
    start_send_at: datetime | None
    status_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageItem:
    """One message of ``message/list`` (every field of the seed's "List of Messages")."""

    id: int
    campaign_id: int | None
    segments: int | None
    segment_price: Decimal | None
    sender: str | None
    recipient: str
    text: str
    status: str
    groups: str | None
    uuid: str | None
    country: str | None
    operator: str | None
    start_send_at: datetime | None
    status_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of ``message/list`` and the total number of matches."""

    items: tuple[MessageItem, ...]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        """How many pages the whole result spans (at least 1)."""
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class ListCriteria:
    """Search criteria of ``message/list`` (the seed's "Search Criteria" table).

    ``None`` leaves a criterion out of the request. Timestamps are sent as
    ``YYYY-MM-DD HH:MM:SS``.
    """

    campaign_ids: tuple[int, ...] = ()
    sender: str | None = None
    recipient: str | None = None
    text: str | None = None
    status: str | None = None
    groups: tuple[str, ...] = ()
    campaign_status: str | None = None
    campaign_created_from: datetime | None = None
    campaign_created_to: datetime | None = None
    campaign_sent_from: datetime | None = None
    campaign_sent_to: datetime | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sort:
    """A ``sort[<field>]=ASC|DESC`` pair; ``field`` is one of :data:`SORT_FIELDS`."""

    field: str
    descending: bool = False
