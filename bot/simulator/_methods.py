"""The three Message methods of the simulated gateway, as functions of the decoded form.

Each answers an :class:`Answer` (Mobizon's envelope); numbers go out as strings, like the
real gateway's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.mobizon import PAGE_SIZES
from bot.simulator._form import PhpForm, PhpValue, as_list, as_mapping, as_text
from bot.simulator._messages import MessageState, SimulatedMessage
from bot.simulator._sms import format_timestamp, parse_timestamp

#: Most ids ``getSMSStatus`` takes, and most campaign ids ``criteria[campaignIds]`` uses.
MAX_IDS = 100

_RECIPIENT_DIGITS = range(10, 16)
_VALIDITY_MINUTES = range(60, 1441)
_DEFERRED_EARLIEST = timedelta(hours=1)
_DEFERRED_LATEST = timedelta(days=14)
_DEFAULT_PAGE_SIZE = 25
_MAX_INT_DIGITS = 9

SortValue = int | str | datetime | None
_SORT_KEYS: dict[str, Callable[[SimulatedMessage, MessageState], SortValue]] = {
    "id": lambda message, _: message.id,
    "campaignId": lambda message, _: message.campaign_id,
    "from": lambda message, _: message.sender,
    "to": lambda message, _: message.recipient,
    "text": lambda message, _: message.text,
    "status": lambda _, state: state.status,
    "startSendTs": lambda _, state: state.start_send_at,
    "statusUpdateTs": lambda _, state: state.status_updated_at,
    "segNum": lambda message, _: message.segments,
}

# criteria[...] time bounds: name -> (which moment, is it a lower bound).
_TIME_CRITERIA: dict[str, tuple[str, bool]] = {
    "campaignCreateTsFrom": ("created", True),
    "campaignCreateTsTo": ("created", False),
    "campaignSentTsFrom": ("sent", True),
    "campaignSentTsTo": ("sent", False),
    "startSendTsFrom": ("sent", True),
    "startSendTsTo": ("sent", False),
    "statusUpdateTsFrom": ("updated", True),
    "statusUpdateTsTo": ("updated", False),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """Mobizon's response envelope: ``code`` 0 is success, ``data`` the result or the details."""

    code: int
    data: object
    message: str = ""

    def envelope(self) -> dict[str, object]:
        """The JSON object the gateway answers with."""
        return {"code": self.code, "data": self.data, "message": self.message}


def invalid(errors: dict[str, str]) -> Answer:
    """A code 1 answer naming each wrong field."""
    return Answer(1, errors, next(iter(errors.values())))


@dataclass(frozen=True, slots=True)
class SendOrder:
    """A validated ``sendSmsMessage`` request."""

    recipient: str
    text: str
    sender: str | None
    name: str | None
    validity: int | None
    deferred_to: datetime | None
    mclass: int | None
    shorten_links: int | None


def validate_send(form: PhpForm, now: datetime) -> SendOrder | Answer:
    """Check a ``sendSmsMessage`` form; a code 1 answer lists every wrong field."""
    errors: dict[str, str] = {}
    recipient = (as_text(form.get("recipient")) or "").strip().removeprefix("+")
    if not (recipient.isascii() and recipient.isdigit() and len(recipient) in _RECIPIENT_DIGITS):
        errors["recipient"] = "Recipient must be an international number of 10 to 15 digits."
    text = as_text(form.get("text")) or ""
    if not text.strip():
        errors["text"] = "Message text is required."
    params = as_mapping(form.get("params"))
    validity = _small_int(params.get("validity"))
    if "validity" in params and (validity is None or validity not in _VALIDITY_MINUTES):
        errors["validity"] = "Validity must be a number of minutes from 60 to 1440."
    deferred_to = None
    if "deferredToTs" in params:
        deferred_to = parse_timestamp(as_text(params["deferredToTs"]) or "")
        if deferred_to is None:
            errors["deferredToTs"] = "Deferred time must be written YYYY-MM-DD HH:MM:SS."
        elif not now + _DEFERRED_EARLIEST <= deferred_to <= now + _DEFERRED_LATEST:
            errors["deferredToTs"] = "Deferred time must be 1 hour to 14 days ahead."
    flags: dict[str, int | None] = {}
    for flag in ("mclass", "shortenLinks"):
        flags[flag] = _small_int(params.get(flag))
        if flag in params and flags[flag] not in {0, 1}:
            errors[flag] = f"{flag} must be 0 or 1."
    if errors:
        return invalid(errors)
    return SendOrder(
        recipient=recipient,
        text=text,
        sender=as_text(form.get("from")) or None,
        name=as_text(params.get("name")) or None,
        validity=validity,
        deferred_to=deferred_to,
        mclass=flags["mclass"],
        shorten_links=flags["shortenLinks"],
    )


def report_statuses(
    form: PhpForm, messages: Mapping[int, SimulatedMessage], now: datetime
) -> Answer:
    """Answer ``getSMSStatus``: the known ones of 1 to 100 ids, unknown ids left out."""
    wanted = as_list(form.get("ids"))
    if not wanted:
        return Answer(2, [], "No message ids given.")
    if len(wanted) > MAX_IDS:
        return Answer(12, [], f"At most {MAX_IDS} message ids per request.")
    report: list[dict[str, object]] = []
    for message_id in dict.fromkeys(_ids(wanted)):
        message = messages.get(message_id)
        if message is None:
            continue
        state = message.state_at(now)
        report.append(
            {
                "id": str(message.id),
                "status": state.status,
                "segNum": str(message.segments),
                "startSendTs": format_timestamp(state.start_send_at),
                "statusUpdateTs": format_timestamp(state.status_updated_at),
            }
        )
    return Answer(0, report)


def list_messages(form: PhpForm, messages: Mapping[int, SimulatedMessage], now: datetime) -> Answer:
    """Answer ``list``: filter by ``criteria``, order by ``sort``, cut one ``pagination`` page."""
    errors: dict[str, str] = {}
    matches = _filter(as_mapping(form.get("criteria")), messages, now, errors)
    page_size, page = _pagination(as_mapping(form.get("pagination")), errors)
    _sort(matches, as_mapping(form.get("sort")), errors)
    if errors:
        return invalid(errors)
    with_info = as_text(form.get("withNumberInfo")) == "1"
    start = page * page_size
    items = [_item(message, state, with_info) for message, state in matches[start:][:page_size]]
    return Answer(0, {"items": items, "totalItemCount": str(len(matches))})


Match = tuple[SimulatedMessage, MessageState]


Test = Callable[[SimulatedMessage, MessageState], bool]


def _filter(
    criteria: dict[str, PhpValue],
    messages: Mapping[int, SimulatedMessage],
    now: datetime,
    errors: dict[str, str],
) -> list[Match]:
    tests = _field_tests(criteria, now) + _time_tests(criteria, errors)
    states = ((message, message.state_at(now)) for message in messages.values())
    return [match for match in states if all(test(*match) for test in tests)]


def _field_tests(criteria: dict[str, PhpValue], now: datetime) -> list[Test]:
    """Tests for the criteria that compare a message's fields (all but the time bounds)."""
    tests: list[Test] = []
    if campaign_ids := set(_ids(as_list(criteria.get("campaignIds"))[:MAX_IDS])):
        tests.append(lambda message, _: message.campaign_id in campaign_ids)
    if sender := as_text(criteria.get("from")):
        tests.append(lambda message, _: message.sender == sender)
    if number_part := as_text(criteria.get("to")):
        number_part = number_part.strip().removeprefix("+")
        tests.append(lambda message, _: number_part in message.recipient)
    if (text := as_text(criteria.get("text"))) is not None:
        tests.append(lambda message, _: message.text == text)
    if statuses := {status.upper() for status in as_list(criteria.get("status"))}:
        tests.append(lambda _, state: state.status in statuses)
    if groups := set(as_list(criteria.get("groups"))):
        tests.append(lambda message, _: bool(groups & set(as_list(message.groups))))
    if campaign_status := as_text(criteria.get("campaignStatus")):
        wanted = campaign_status.strip().upper()
        tests.append(lambda message, _: message.matches_campaign_status(wanted, now))
    return tests


def _time_tests(criteria: dict[str, PhpValue], errors: dict[str, str]) -> list[Test]:
    """Tests for the ``...TsFrom`` / ``...TsTo`` bounds; a malformed one is an error."""
    tests: list[Test] = []
    for name, (moment, lower) in _TIME_CRITERIA.items():
        if name in criteria:
            bound = parse_timestamp(as_text(criteria[name]) or "")
            if bound is None:
                errors[name] = f"{name} must be written YYYY-MM-DD HH:MM:SS."
            else:
                tests.append(_time_test(moment, bound, lower=lower))
    return tests


def _time_test(moment: str, bound: datetime, *, lower: bool) -> Test:
    def test(message: SimulatedMessage, state: MessageState) -> bool:
        if moment == "created":
            value: datetime | None = message.created_at.replace(microsecond=0)
        elif moment == "sent":
            value = state.start_send_at
        else:
            value = state.status_updated_at
        if value is None:
            return False
        return value >= bound if lower else value <= bound

    return test


def _pagination(pagination: dict[str, PhpValue], errors: dict[str, str]) -> tuple[int, int]:
    page_size = _small_int(pagination.get("pageSize", str(_DEFAULT_PAGE_SIZE)))
    if page_size not in PAGE_SIZES:
        errors["pageSize"] = "Page size must be 25, 50 or 100."
    page = _small_int(pagination.get("currentPage", "0"))
    if page is None:
        errors["currentPage"] = "Current page must be a whole number from 0."
    return page_size or _DEFAULT_PAGE_SIZE, page or 0


def _sort(matches: list[Match], sort: dict[str, PhpValue], errors: dict[str, str]) -> None:
    matches.sort(key=lambda match: match[0].id)
    keys = list(sort.items())
    # Stable sorts applied last-key-first leave the first sort key the primary one.
    for field, direction in reversed(keys):
        order = as_text(direction)
        order = order.strip().upper() if order else ""
        key = _SORT_KEYS.get(field)
        if key is None or order not in {"ASC", "DESC"}:
            errors[f"sort[{field}]"] = f"Cannot sort by {field!r} {order or '(no order)'}."
            continue

        matches.sort(key=partial(_sort_value, key), reverse=order == "DESC")


def _sort_value(
    key: Callable[[SimulatedMessage, MessageState], SortValue], match: Match
) -> tuple[bool, int | str | datetime]:
    value = key(*match)
    # Like SQL: missing values sort before any value in ascending order.
    return (False, 0) if value is None else (True, value)


def _item(message: SimulatedMessage, state: MessageState, with_info: bool) -> dict[str, object]:
    item: dict[str, object] = {
        "id": str(message.id),
        "campaignId": str(message.campaign_id),
        "segNum": str(message.segments),
        "segUserBuy": f"{message.segment_price:.4f}",
        "from": message.sender,
        "to": message.recipient,
        "text": message.text,
        "status": state.status,
        "groups": message.groups,
        "uuid": message.uuid,
        "startSendTs": format_timestamp(state.start_send_at),
        "statusUpdateTs": format_timestamp(state.status_updated_at),
    }
    # without withNumberInfo=1 Mobizon still sends both fields, as null
    item["countryA2"] = message.country if with_info else None
    item["operatorName"] = message.operator if with_info else None
    return item


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isascii() and value.isdigit()]


def _small_int(value: PhpValue | None) -> int | None:
    text = as_text(value)
    if text is None:
        return None
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= _MAX_INT_DIGITS:
        return int(text)
    return None
