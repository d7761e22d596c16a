"""The account-level methods of the simulated gateway: balance, sender names, campaigns, links.

``user/getOwnBalance``, ``alphaname/list``, ``campaign/getInfo`` and ``campaign/delete``
answer from the simulator's state as functions of the decoded form; numbers go out as
strings, like the real gateway's JSON (shapes follow Mobizon's docs and captured answers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bot.mobizon import MessageStatus
from bot.simulator._form import PhpForm, PhpValue, as_mapping, as_text
from bot.simulator._messages import (
    DECLINED,
    DONE,
    MODERATION,
    READY_FOR_SEND,
    RUNNING,
    SENT,
    SimulatedMessage,
    is_final,
)
from bot.simulator._methods import Answer
from bot.simulator._sms import format_timestamp

#: A scheduled campaign can be deleted until this long before its start (Mobizon's rule).
DELETE_DEADLINE = timedelta(minutes=5)

#: Message statuses the ``counters`` of campaign/getInfo count, as Mobizon spells them there.
COUNTED_STATUSES = (
    "NEW",
    "ENQUEUD",
    "ACCEPTD",
    "DELIVRD",
    "REJECTD",
    "EXPIRED",
    "UNDELIV",
    "DELETED",
    "UNKNOWN",
    "PDLIVRD",
)

_MAX_PAGE_SIZE = 100
_DEFAULT_PAGE_SIZE = 25
_MAX_INT_DIGITS = 9
# A link in an SMS text: a scheme or "www.", up to whitespace; closing punctuation stays out.
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def _money(amount: Decimal) -> str:
    """Mobizon's fixed 4-decimal amounts, as strings."""
    return f"{amount:.4f}"


def balance_answer(balance: Decimal, currency: str) -> Answer:
    """Answer ``user/getOwnBalance``."""
    return Answer(0, {"balance": _money(balance), "currency": currency})


def sender_names_answer(form: PhpForm, names: Sequence[str], created: datetime) -> Answer:
    """Answer ``alphaname/list``: one page of the account's sender names, the first the default."""
    pagination = as_mapping(form.get("pagination"))
    page_size = _small_int(pagination.get("pageSize"), _DEFAULT_PAGE_SIZE)
    page = _small_int(pagination.get("currentPage"), 0)
    if page_size is None or not 1 <= page_size <= _MAX_PAGE_SIZE or page is None:
        return Answer(12, [], f"Page size must be 1 to {_MAX_PAGE_SIZE}, page from 0.")
    stamp = format_timestamp(created)
    items = [
        {
            "id": str(7000 + index),
            "alphanameId": str(58000 + index),
            "isDefault": "1" if index == 0 else "0",
            "globalStatus": "1",
            "partnerStatus": "1",
            "statusUpdateTs": stamp,
            "createTs": stamp,
            "details": {"description": f"Sender name {name}"},
            "globalComment": "",
            "partnerComment": "",
            "alphaname": {"id": str(58000 + index), "name": name, "createTs": stamp, "type": "3"},
        }
        for index, name in enumerate(names)
    ]
    start = page * page_size
    return Answer(0, {"items": items[start : start + page_size], "totalItemCount": str(len(items))})


def campaign_id_of(form: PhpForm) -> int | Answer:
    """The ``id`` a campaign method names, or the answer Mobizon gives without a usable one."""
    text = (as_text(form.get("id")) or "").strip()
    if not text:
        return Answer(11, [], "Required parameter id is missing.")
    if not (text.isascii() and text.isdigit() and len(text) <= 2 * _MAX_INT_DIGITS):
        return Answer(1, {"id": "Campaign id must be a whole number."}, "Wrong campaign id.")
    return int(text)


def not_found(campaign_id: int) -> Answer:
    """Code 2: no campaign with this id (or it is deleted)."""
    return Answer(2, [], f"Campaign {campaign_id} not found.")


def common_status_at(message: SimulatedMessage, now: datetime) -> str:
    """``commonStatus`` of campaign/getInfo for a single-message campaign as of ``now``."""
    if message.moderation_pending(now):
        return MODERATION
    if message.declined_at(now):
        return DECLINED
    status = message.state_at(now).status
    if status == MessageStatus.NEW:
        return READY_FOR_SEND
    if is_final(status):
        return DONE
    return RUNNING if status == MessageStatus.ENQUEUD else SENT


def campaign_info(message: SimulatedMessage, now: datetime, currency: str) -> Answer:
    """Answer ``campaign/getInfo`` for the campaign of ``message``."""
    state = message.state_at(now)
    declined = message.declined_at(now)
    final = is_final(state.status)
    counters: dict[str, object] = {
        "campaignId": str(message.campaign_id),
        "updateTs": format_timestamp(
            (state.status_updated_at or message.created_at).replace(microsecond=0)
        ),
    }
    for status in COUNTED_STATUSES:
        current = status == state.status
        name = status.capitalize()
        counters[f"total{name}SegNum"] = str(message.segments if current else 0)
        counters[f"total{name}MsgNum"] = str(1 if current else 0)
        counters[f"total{name}MsgCost"] = _money(message.cost if current else Decimal(0))
    counters.update(
        {
            "totalSegNum": str(message.segments),
            "totalMsgNum": "1",
            "totalCost": _money(message.cost),
            "userCurrency": currency,
            "recipientsRejected": "0",
        }
    )
    data: dict[str, object] = {
        "id": str(message.campaign_id),
        "moderationStatus": message.moderation_status_at(now),
        "commonStatus": common_status_at(message, now),
        "type": "1",
        "msgType": "SMS",
        "sendStatus": ("DONE" if final else "SENT") if state.start_send_at else None,
        "isDeleted": "1" if message.deleted_at is not None else "0",
        "deletedTs": format_timestamp(message.deleted_at),
        "deferredToTs": format_timestamp(message.deferred_to),
        "createTs": format_timestamp(message.created_at.replace(microsecond=0)),
        "startSendTs": format_timestamp(state.start_send_at),
        "endSendTs": format_timestamp(state.status_updated_at) if final else None,
        "name": message.name,
        "from": message.sender,
        "text": message.text,
        "groups": message.groups,
        "globalComment": message.global_comment if declined else None,
        "counters": counters,
    }
    return Answer(0, data)


def delete_refusal(message: SimulatedMessage, now: datetime) -> Answer | None:
    """Why ``campaign/delete`` cannot delete this campaign now (code 10), or ``None``.

    Only before sending starts; a scheduled campaign until 5 minutes before its time.
    """
    started = message.state_at(now).start_send_at is not None
    too_late = message.deferred_to is not None and now > message.deferred_to - DELETE_DEADLINE
    if started or too_late:
        return Answer(
            10,
            [],
            "The campaign cannot be deleted: its sending has started or starts in less than "
            "5 minutes.",
        )
    return None


def shorten_links(text: str, short_link: Callable[[str], str]) -> str:
    """Replace every link in ``text`` by the short link ``short_link`` gives for it."""

    def replace(match: re.Match[str]) -> str:
        link = match.group(0)
        kept = link.rstrip(_TRAILING)
        return short_link(kept) + link[len(kept) :]

    return _LINK.sub(replace, text)


def _small_int(value: PhpValue | None, default: int) -> int | None:
    if value is None:
        return default
    text = as_text(value)
    if text is None:
        return None
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= _MAX_INT_DIGITS:
        return int(text)
    return None
