"""A stored campaign's values: what is stored, what is read back, and why a decision failed.

The values of :mod:`storage.campaigns` (which names them all), kept apart from its queries.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


class CampaignState(enum.StrEnum):
    """``campaigns.state``: a campaign's life."""

    PREVIEW = "preview"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NewRecipient:
    """One recipient to store: its row, number, text (placeholders filled), segments, values."""

    row: int
    number: str
    text: str
    segments: int
    values: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """A campaign to store, with its recipients (storage's own copy of the domain's request).

    ``trigger_id`` is the duplicate key; ``confirmed`` stores it ready to send, else it is a
    preview until ``expires_at``. ``deferred_to`` is Mobizon's wall time text, as on an SMS.
    """

    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None
    text: str
    template: bool
    recipients: Sequence[NewRecipient]
    left_out: int = 0
    source: str | None = None
    sender: str | None = None
    name: str | None = None
    deferred_to: str | None = None
    validity: int | None = None
    flash: bool = False
    shorten_links: bool = False
    sandbox: bool = False
    confirmed: bool = False
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A stored campaign: every column of ``campaigns``, times as stored (UTC ISO text)."""

    id: int
    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None
    text: str
    template: bool
    sender: str | None
    name: str | None
    deferred_to: str | None
    validity: int | None
    flash: bool
    shorten_links: bool
    sandbox: bool
    source: str | None
    recipients: int
    left_out: int
    segments_min: int
    segments_max: int
    segments_total: int
    state: str
    expires_at: str | None
    confirmed_at: str | None
    claimed_by: str | None
    mobizon_id: int | None
    mobizon_status: int | None
    sent_at: str | None
    error: str | None
    slack_channel: str | None
    slack_ts: str | None
    changed_at: str | None
    reported_at: str | None
    summary_ts: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class CampaignRecipientRow:
    """A stored recipient: ``code`` and ``sms_id`` are ``None`` until Mobizon answered for it."""

    row: int
    number: str
    text: str
    segments: int
    values: Mapping[str, str]
    code: int | None
    sms_id: int | None


class Refusal(enum.StrEnum):
    """Why a confirm or cancel changed nothing."""

    MISSING = "missing"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"
    DECIDED = "decided"


@dataclass(frozen=True, slots=True)
class DecisionRefused:
    """A confirm or cancel that changed nothing: ``reason``, and the campaign as it is.

    ``campaign`` is ``None`` only when ``reason`` is :attr:`Refusal.MISSING`.
    """

    reason: Refusal
    campaign: CampaignRecord | None


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """Mobizon's answer for one recipient ``row``: ``code`` (0: added as ``message_id``).

    ``encoding`` and ``length`` are its text's, as a single send's claim records them.
    """

    row: int
    code: int
    message_id: int | None = None
    encoding: str | None = None
    length: int | None = None


def campaign_from_row(row: Any) -> CampaignRecord:  # noqa: ANN401  # a Row of ``campaigns``
    """The campaign a row of ``campaigns`` holds."""
    values = row._mapping  # noqa: SLF001  # SQLAlchemy's public row mapping
    fields: dict[str, Any] = {
        name: (bool(values[name]) if name in _FLAGS else values[name])
        for name in CampaignRecord.__dataclass_fields__
    }
    return CampaignRecord(**fields)


_FLAGS = frozenset({"template", "flash", "shorten_links", "sandbox"})


@dataclass(frozen=True, slots=True)
class SegmentCost:
    """What one segment cost, on average, over ``sample`` recent SMS, in ``currency``."""

    per_segment: Decimal
    currency: str
    sample: int
