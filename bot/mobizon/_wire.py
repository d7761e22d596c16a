"""Mobizon's wire format as pure functions: form bodies out, JSON envelopes and results in.

Bodies are PHP ``http_build_query`` style (``ids[0]=1&ids[1]=2``, ``params[validity]=1440``),
built with :func:`urllib.parse.urlencode` over ``(key, value)`` pairs, as Mobizon's own PHP
client sends them. Answers are tolerated in every shape Mobizon is known to use: numbers as
strings or ints, ``null`` timestamps, lists that PHP turned into objects.

Mobizon's timestamps carry no zone: they are wall time in the account's time zone. Given that
zone (``zone``), aware datetimes are converted into it on the way out, and timestamps read
come back aware in it; naive datetimes go out as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TypeAlias
from urllib.parse import urlencode

from bot.mobizon._types import (
    PAGE_SIZES,
    SORT_FIELDS,
    TIMESTAMP_FORMAT,
    ListCriteria,
    MessageItem,
    MessagePage,
    OutgoingSms,
    SentMessage,
    SmsStatus,
    Sort,
)
from bot.mobizon._types import format_timestamp as wall_timestamp

__all__ = [
    "MAX_IDS_PER_STATUS_REQUEST",
    "TIMESTAMP_FORMAT",
    "Envelope",
    "MalformedAnswerError",
    "Pairs",
    "decode_envelope",
    "encode_form",
    "format_timestamp",
    "list_pairs",
    "parse_decimal",
    "parse_int",
    "parse_message_page",
    "parse_sent_message",
    "parse_statuses",
    "parse_timestamp",
    "send_sms_pairs",
    "status_pairs",
]

#: Form fields in the order they go on the wire.
Pairs: TypeAlias = list[tuple[str, str]]

#: getSMSStatus answers code 12 beyond this many ids in one request.
MAX_IDS_PER_STATUS_REQUEST = 100

# The seed documents ``HH-MM-SS`` once; tolerate it on the way in.
_ALTERNATE_TIMESTAMP_FORMAT = "%Y-%m-%d %H-%M-%S"
# MySQL's zero date means "never" where a null was expected.
_ZERO_TIMESTAMP = "0000-00-00 00:00:00"


class MalformedAnswerError(ValueError):
    """Mobizon answered code 0 but the ``data`` does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """Mobizon's response envelope: ``{"code": ..., "data": ..., "message": ...}``."""

    code: int
    data: object
    message: str


def encode_form(pairs: Iterable[tuple[str, str]]) -> bytes:
    """Encode form pairs as an ``application/x-www-form-urlencoded`` body."""
    return urlencode(list(pairs)).encode("ascii")


def format_timestamp(moment: datetime, zone: tzinfo | None = None) -> str:
    """Write ``moment`` as Mobizon's ``YYYY-MM-DD HH:MM:SS``: the account's wall time.

    An aware ``moment`` is first converted into ``zone`` (the account's); a naive one is
    taken as that wall time already.
    """
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return wall_timestamp(moment)


def send_sms_pairs(sms: OutgoingSms, zone: tzinfo | None = None) -> Pairs:
    """Form pairs of ``message/sendSmsMessage``: only the parameters ``sms`` sets.

    A flash SMS is ``params[mclass]=0``; link shortening is ``params[shortenLinks]=1``.
    """
    pairs: Pairs = [("recipient", sms.recipient), ("text", sms.text)]
    if sms.sender is not None:
        pairs.append(("from", sms.sender))
    if sms.campaign_name is not None:
        pairs.append(("params[name]", sms.campaign_name))
    if sms.schedule is not None:
        pairs.append(("params[deferredToTs]", format_timestamp(sms.schedule, zone)))
    if sms.validity is not None:
        pairs.append(("params[validity]", str(sms.validity)))
    if sms.flash:
        pairs.append(("params[mclass]", "0"))
    if sms.shorten_links:
        pairs.append(("params[shortenLinks]", "1"))
    return pairs


def status_pairs(ids: Sequence[int]) -> Pairs:
    """Form pairs of ``message/getSMSStatus``: ``ids[0]``, ``ids[1]``, ..."""
    return [(f"ids[{index}]", str(message_id)) for index, message_id in enumerate(ids)]


def _criteria_pairs(criteria: ListCriteria, zone: tzinfo | None) -> Pairs:
    """``criteria[...]`` pairs in the order of the seed's Search Criteria table."""
    texts: list[tuple[str, str | None]] = [
        ("campaignIds", ",".join(map(str, criteria.campaign_ids)) or None),
        ("from", criteria.sender),
        ("to", criteria.recipient),
        ("text", criteria.text),
        ("status", criteria.status),
        ("groups", ",".join(criteria.groups) or None),
        ("campaignStatus", criteria.campaign_status),
    ]
    moments: list[tuple[str, datetime | None]] = [
        ("campaignCreateTsFrom", criteria.campaign_created_from),
        ("campaignCreateTsTo", criteria.campaign_created_to),
        ("campaignSentTsFrom", criteria.campaign_sent_from),
        ("campaignSentTsTo", criteria.campaign_sent_to),
        ("startSendTsFrom", criteria.sent_from),
        ("startSendTsTo", criteria.sent_to),
        ("statusUpdateTsFrom", criteria.updated_from),
        ("statusUpdateTsTo", criteria.updated_to),
    ]
    pairs = [(f"criteria[{key}]", value) for key, value in texts if value is not None]
    pairs += [
        (f"criteria[{key}]", format_timestamp(moment, zone))
        for key, moment in moments
        if moment is not None
    ]
    return pairs


def list_pairs(
    criteria: ListCriteria | None = None,
    *,
    page: int = 0,
    page_size: int = 25,
    sort: Sort | None = None,
    with_number_info: bool = False,
    zone: tzinfo | None = None,
) -> Pairs:
    """Build ``message/list`` pairs; raise ValueError for a page, size or sort Mobizon rejects."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}, not {page_size}")
    if page < 0:
        raise ValueError(f"page starts at 0, not {page}")
    if sort is not None and sort.field not in SORT_FIELDS:
        raise ValueError(f"sort field must be one of {SORT_FIELDS}, not {sort.field!r}")
    pairs = _criteria_pairs(criteria, zone) if criteria is not None else []
    pairs += [("pagination[currentPage]", str(page)), ("pagination[pageSize]", str(page_size))]
    if sort is not None:
        pairs.append((f"sort[{sort.field}]", "DESC" if sort.descending else "ASC"))
    if with_number_info:
        pairs.append(("withNumberInfo", "1"))
    return pairs


def decode_envelope(body: bytes) -> Envelope | None:
    """Read Mobizon's JSON envelope from a body, or ``None`` when the body is not one."""
    try:
        decoded = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(decoded, dict) or "code" not in decoded:
        return None
    try:
        code = parse_int(decoded["code"])
    except MalformedAnswerError:
        return None
    if code is None:
        return None
    message = decoded.get("message")
    return Envelope(
        code=code,
        data=decoded.get("data"),
        message="" if message is None else str(message),
    )


def parse_int(value: object) -> int | None:
    """Read an id or count sent as int or string; ``None`` and ``""`` give ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise MalformedAnswerError(f"expected a whole number, got {value!r}")


def _required_int(value: object, field: str) -> int:
    """Like :func:`parse_int`, for a field that must be there."""
    number = parse_int(value)
    if number is None:
        raise MalformedAnswerError(f"{field} is missing")
    return number


def parse_decimal(value: object) -> Decimal | None:
    """Read a price sent as ``"0.0600"`` or a number, exactly (never through a float)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedAnswerError(f"expected a decimal number, got {value!r}")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise MalformedAnswerError(f"expected a decimal number, got {value!r}") from None


def parse_timestamp(value: object, zone: tzinfo | None = None) -> datetime | None:
    """Read a ``YYYY-MM-DD HH:MM:SS`` timestamp; null, empty or the zero date give ``None``.

    With ``zone`` (the account's), the time comes back aware in it; without, naive.
    """
    if value is None or value in {"", _ZERO_TIMESTAMP}:
        return None
    if not isinstance(value, str):
        raise MalformedAnswerError(f"expected a timestamp, got {value!r}")
    for layout in (TIMESTAMP_FORMAT, _ALTERNATE_TIMESTAMP_FORMAT):
        try:
            moment = datetime.strptime(value.strip(), layout)  # noqa: DTZ007 - Mobizon sends no zone
        except ValueError:
            continue
        return moment if zone is None else moment.replace(tzinfo=zone)
    raise MalformedAnswerError(f"expected a timestamp, got {value!r}")


def _text(value: object) -> str | None:
    """Read a text field that may come as a string, a number, a list or null."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def _required_status(value: object) -> str:
    """Read a status; a blank one is refused so it never overwrites a real status."""
    status = _text(value)
    if not status or not status.strip():
        raise MalformedAnswerError("status is missing")
    return status.strip()


def _records(data: object, what: str) -> list[Mapping[str, object]]:
    """Return the objects in ``data``; PHP may send a list as an object keyed by index."""
    if isinstance(data, Mapping):
        data = list(data.values())
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise MalformedAnswerError(f"expected a list of {what}")
    return data


def parse_sent_message(data: object) -> SentMessage:
    """Read the ``data`` of a successful sendSmsMessage."""
    if not isinstance(data, Mapping):
        raise MalformedAnswerError("expected an object with messageId")
    return SentMessage(
        message_id=_required_int(data.get("messageId"), "messageId"),
        campaign_id=_required_int(data.get("campaignId"), "campaignId"),
        campaign_status=_required_int(data.get("status"), "status"),
    )


def parse_statuses(data: object, zone: tzinfo | None = None) -> list[SmsStatus]:
    """Read the ``data`` of a successful getSMSStatus: one entry per message Mobizon knows."""
    return [
        SmsStatus(
            id=_required_int(record.get("id"), "id"),
            status=_required_status(record.get("status")),
            segments=parse_int(record.get("segNum")),
            start_send_at=parse_timestamp(record.get("startSendTs"), zone),
            status_updated_at=parse_timestamp(record.get("statusUpdateTs"), zone),
        )
        for record in _records(data, "statuses")
    ]


def _message_item(record: Mapping[str, object], zone: tzinfo | None) -> MessageItem:
    """One entry of message/list's ``items``."""
    return MessageItem(
        id=_required_int(record.get("id"), "id"),
        campaign_id=parse_int(record.get("campaignId")),
        segments=parse_int(record.get("segNum")),
        segment_price=parse_decimal(record.get("segUserBuy")),
        sender=_text(record.get("from")),
        recipient=_text(record.get("to")) or "",
        text=_text(record.get("text")) or "",
        status=_required_status(record.get("status")),
        groups=_text(record.get("groups")),
        uuid=_text(record.get("uuid")),
        country=_text(record.get("countryA2")),
        operator=_text(record.get("operatorName")),
        start_send_at=parse_timestamp(record.get("startSendTs"), zone),
        status_updated_at=parse_timestamp(record.get("statusUpdateTs"), zone),
    )


def parse_message_page(
    data: object, *, page: int, page_size: int, zone: tzinfo | None = None
) -> MessagePage:
    """Read the ``data`` of a successful message/list, with the page that was asked for."""
    if not isinstance(data, Mapping):
        raise MalformedAnswerError("expected an object with items")
    items = tuple(
        _message_item(record, zone) for record in _records(data.get("items") or [], "messages")
    )
    total = parse_int(data.get("totalItemCount"))
    return MessagePage(
        items=items,
        total=len(items) if total is None else total,
        page=page,
        page_size=page_size,
    )
