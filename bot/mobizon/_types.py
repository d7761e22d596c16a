"""The gateway's value types: the SMS to send, and the typed answers of the Mobizon client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

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

    @property
    def cost(self) -> Decimal | None:
        """What the message cost: ``segUserBuy`` (per segment) times ``segNum``, when both came."""
        if self.segment_price is None or self.segments is None:
            return None
        return self.segment_price * self.segments


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


class MessageStatus(StrEnum):
    """A message's ``status`` as Mobizon spells it (getSMSStatus, message/list, webhooks)."""

    NEW = "NEW"
    ENQUEUD = "ENQUEUD"
    ACCEPTD = "ACCEPTD"
    PDLIVRD = "PDLIVRD"
    DELIVRD = "DELIVRD"
    UNDELIV = "UNDELIV"
    REJECTD = "REJECTD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


#: The message statuses Mobizon never changes again.
FINAL_MESSAGE_STATUSES = frozenset(
    {
        MessageStatus.DELIVRD,
        MessageStatus.UNDELIV,
        MessageStatus.REJECTD,
        MessageStatus.EXPIRED,
        MessageStatus.DELETED,
    }
)


class ModerationStatus(StrEnum):
    """``moderationStatus`` of ``campaign/getinfo``; unknown values are kept as plain strings."""

    MODERATION = "MODERATION"
    DECLINED = "DECLINED"
    READY_FOR_SEND = "READY_FOR_SEND"
    AUTO_READY_FOR_SEND = "AUTO_READY_FOR_SEND"


class CommonStatus(StrEnum):
    """``commonStatus`` of ``campaign/getinfo``; unknown values are kept as plain strings."""

    MODERATION = "MODERATION"
    DECLINED = "DECLINED"
    READY_FOR_SEND = "READY_FOR_SEND"
    RUNNING = "RUNNING"
    SENT = "SENT"
    DONE = "DONE"


@dataclass(frozen=True, slots=True)
class Balance:
    """``user/getownbalance``: what is left on the account, exactly, and its ISO 4217 currency."""

    amount: Decimal
    currency: str | None


@dataclass(frozen=True, slots=True)
class SenderName:
    """One entry of ``alphaname/list``: a sender name (alphaname) of the account.

    ``global_status`` and ``partner_status`` are Mobizon's moderation states of the name, kept
    as sent (captured answers show ``"1"``; their meanings are not documented).
    """

    name: str
    alphaname_id: int | None
    global_status: str | None
    partner_status: str | None
    is_default: bool
    description: str | None


@dataclass(frozen=True, slots=True)
class CampaignCounters:
    """The ``counters`` of ``campaign/getinfo`` (Mobizon updates them with a delay).

    ``segments``, ``messages`` and ``costs`` are keyed by message status in capitals
    (``"NEW"``, ``"DELIVRD"``...; from ``totalNewSegNum``, ``totalNewMsgNum``,
    ``totalNewMsgCost``...), holding only what Mobizon sent. ``currency`` is ``userCurrency``.
    """

    updated_at: datetime | None
    total_segments: int | None
    total_messages: int | None
    total_cost: Decimal | None
    currency: str | None
    segments: Mapping[str, int]
    messages: Mapping[str, int]
    costs: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """``campaign/getinfo``: where one campaign stands (moderation, sending, deletion, cost).

    Statuses are kept as sent (compare with :class:`ModerationStatus` and
    :class:`CommonStatus`); fields Mobizon left out are ``None``.
    """

    id: int
    moderation_status: str | None
    common_status: str | None
    global_comment: str | None
    deferred_to: datetime | None
    created_at: datetime | None
    start_send_at: datetime | None
    end_send_at: datetime | None
    is_deleted: bool
    counters: CampaignCounters | None

    @property
    def awaiting_moderation(self) -> bool:
        """True while Mobizon's moderators have not decided yet."""
        return ModerationStatus.MODERATION in {self.moderation_status, self.common_status}

    @property
    def declined(self) -> bool:
        """True when a moderator declined the campaign (``global_comment`` says why)."""
        return ModerationStatus.DECLINED in {self.moderation_status, self.common_status}

    @property
    def total_cost(self) -> Decimal | None:
        """The campaign's cost per its counters (``totalCost``), when Mobizon stated it."""
        return None if self.counters is None else self.counters.total_cost

    @property
    def currency(self) -> str | None:
        """The currency of the counters' costs (``userCurrency``), when Mobizon stated it."""
        return None if self.counters is None else self.counters.currency
