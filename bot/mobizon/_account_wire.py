"""Mobizon's wire format for the account: balance, sender names and campaigns.

The same rules as :mod:`bot.mobizon._wire` (form pairs out, every known answer shape in), for
``user/getOwnBalance``, ``alphaname/list``, ``campaign/getInfo`` and ``campaign/delete``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import TypeVar

from bot.mobizon._types import Balance, CampaignCounters, CampaignInfo, SenderName
from bot.mobizon._wire import (
    MalformedAnswerError,
    Pairs,
    _records,
    _required_int,
    _text,
    parse_decimal,
    parse_int,
    parse_timestamp,
)

__all__ = [
    "SENDER_NAMES_PAGE_SIZE",
    "campaign_pairs",
    "parse_balance",
    "parse_campaign_info",
    "parse_sender_name_page",
    "sender_names_pairs",
]

#: How many sender names one ``alphaname/list`` request asks for.
SENDER_NAMES_PAGE_SIZE = 100


_T = TypeVar("_T")


def campaign_pairs(campaign_id: int) -> Pairs:
    """Form pairs of ``campaign/getinfo`` and ``campaign/delete``: the campaign's ``id``."""
    return [("id", str(campaign_id))]


def sender_names_pairs(page: int, page_size: int = SENDER_NAMES_PAGE_SIZE) -> Pairs:
    """Form pairs of one ``alphaname/list`` page (0-based)."""
    return [("pagination[currentPage]", str(page)), ("pagination[pageSize]", str(page_size))]


#: An ISO 4217 code's shape: what Mobizon states is shown to people and used as a metric label.
_CURRENCY = re.compile(r"[A-Z]{3}")


def _currency(value: object) -> str | None:
    """Read an ISO 4217 code; blank, null or anything not shaped like a code gives ``None``."""
    text = (_text(value) or "").strip().upper()
    return text if _CURRENCY.fullmatch(text) else None


def parse_balance(data: object) -> Balance:
    """Read the ``data`` of a successful user/getOwnBalance."""
    if not isinstance(data, Mapping):
        raise MalformedAnswerError("expected an object with balance")
    amount = parse_decimal(data.get("balance"))
    if amount is None:
        raise MalformedAnswerError("balance is missing")
    return Balance(amount=amount, currency=_currency(data.get("currency")))


def _flag(value: object) -> bool:
    """Read a 0/1 flag sent as a string, a number or a boolean; missing is false."""
    if isinstance(value, bool):
        return value
    try:
        return bool(parse_int(value))
    except MalformedAnswerError:
        return False


def _sender_name(record: Mapping[str, object]) -> SenderName | None:
    """One entry of alphaname/list's ``items``; ``None`` when it names no sender."""
    alphaname = record.get("alphaname")
    nested = alphaname if isinstance(alphaname, Mapping) else {}
    name = _text(nested.get("name")) or _text(record.get("name"))
    if not name or not name.strip():
        return None
    details = record.get("details")
    description = _text(details.get("description")) if isinstance(details, Mapping) else None
    description = description or _text(record.get("description"))
    try:
        alphaname_id = parse_int(record.get("alphanameId") or nested.get("id"))
    except MalformedAnswerError:
        alphaname_id = None
    return SenderName(
        name=name.strip(),
        alphaname_id=alphaname_id,
        global_status=_text(record.get("globalStatus")),
        partner_status=_text(record.get("partnerStatus")),
        is_default=_flag(record.get("isDefault")),
        description=description or None,
    )


def parse_sender_name_page(data: object) -> tuple[list[SenderName], int | None, int]:
    """Read one alphaname/list page: its sender names, the total (if sent) and the raw count."""
    if not isinstance(data, Mapping):
        raise MalformedAnswerError("expected an object with items")
    records = _records(data.get("items") or [], "sender names")
    names = [name for record in records if (name := _sender_name(record)) is not None]
    return names, parse_int(data.get("totalItemCount")), len(records)


# totalDelivrdSegNum -> ("DELIVRD", "SegNum"); totalSegNum and totalCost have no status.
_COUNTER = re.compile(r"total([A-Z][a-z]+)(SegNum|MsgNum|MsgCost)")


def _counters(data: object, zone: tzinfo | None) -> CampaignCounters | None:
    """Read ``counters``; any field may be missing, unknown ones are ignored."""
    if not isinstance(data, Mapping):
        return None
    segments: dict[str, int] = {}
    messages: dict[str, int] = {}
    costs: dict[str, Decimal] = {}
    for key, value in data.items():
        match = _COUNTER.fullmatch(str(key))
        if match is None:
            continue
        status, kind = match.group(1).upper(), match.group(2)
        try:
            if kind == "MsgCost":
                cost = parse_decimal(value)
                if cost is not None:
                    costs[status] = cost
            elif (count := parse_int(value)) is not None:
                (segments if kind == "SegNum" else messages)[status] = count
        except MalformedAnswerError:
            continue
    return CampaignCounters(
        updated_at=_lenient(parse_timestamp, data.get("updateTs"), zone),
        total_segments=_lenient(parse_int, data.get("totalSegNum")),
        total_messages=_lenient(parse_int, data.get("totalMsgNum")),
        total_cost=_lenient(parse_decimal, data.get("totalCost")),
        currency=_currency(data.get("userCurrency") or data.get("currency")),
        segments=segments,
        messages=messages,
        costs=costs,
    )


def _lenient(parse: Callable[..., _T | None], value: object, *args: object) -> _T | None:
    """``parse(value, *args)`` for an informative field: unreadable counts as missing."""
    try:
        return parse(value, *args)
    except MalformedAnswerError:
        return None


def _status_text(value: object) -> str | None:
    """A status string, stripped and upper-cased; blank gives ``None``."""
    text = _text(value)
    return text.strip().upper() if text and text.strip() else None


def parse_campaign_info(
    data: object, zone: tzinfo | None = None, *, campaign_id: int | None = None
) -> CampaignInfo:
    """Read the ``data`` of a successful campaign/getInfo; every field may be missing.

    ``campaign_id`` (the id asked for) stands in for a missing or unreadable ``id``.
    ``isDeleted`` may be missing (captured answers carry ``deletedTs`` instead): either says
    the campaign is deleted.
    """
    if not isinstance(data, Mapping):
        raise MalformedAnswerError("expected an object with the campaign")
    found_id = _lenient(parse_int, data.get("id"))
    if found_id is None:
        found_id = _required_int(campaign_id, "id")
    comment = _text(data.get("globalComment"))
    deleted_at = _lenient(parse_timestamp, data.get("deletedTs"), zone)
    return CampaignInfo(
        id=found_id,
        moderation_status=_status_text(data.get("moderationStatus")),
        common_status=_status_text(data.get("commonStatus")),
        global_comment=comment.strip() if comment and comment.strip() else None,
        deferred_to=_lenient(parse_timestamp, data.get("deferredToTs"), zone),
        created_at=_lenient(parse_timestamp, data.get("createTs"), zone),
        start_send_at=_lenient(parse_timestamp, data.get("startSendTs"), zone),
        end_send_at=_lenient(parse_timestamp, data.get("endSendTs"), zone),
        is_deleted=_flag(data.get("isDeleted")) or deleted_at is not None,
        counters=_counters(data.get("counters"), zone),
    )
