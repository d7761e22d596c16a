"""The simulated campaign methods' forms: ``campaign/create`` and ``campaign/addrecipients``.

Pure functions of the decoded form, as :mod:`bot.simulator._methods` has for the Message
methods: what a create asks for (:class:`CampaignOrder`) and the campaign it makes
(:class:`BulkCampaign`), each recipient of an add (:class:`RecipientEntry`), its row code, and
a template's text rendered per recipient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.simulator._form import PhpForm, PhpValue, as_mapping, as_text
from bot.simulator._methods import Answer, invalid
from bot.simulator._sms import parse_timestamp

#: ``data[type]`` of a bulk campaign (one text) and of a template (placeholders per recipient).
BULK, TEMPLATE = 2, 3
#: Most recipients one ``campaign/addrecipients`` takes.
MAX_RECIPIENTS = 500
#: Row codes of ``campaign/addrecipients`` the simulator answers.
ADDED, EMPTY, NOT_INTERNATIONAL, DUPLICATE, STOP_LIST, PLACEHOLDERS_MISSING = 0, 1, 3, 4, 5, 20
#: ``params[placeholdersFlag]``: keep a missing placeholder as typed, remove it, refuse the row.
KEEP, REMOVE, REFUSE = 1, 2, 3

#: A placeholder in a template's text: Latin letters, digits, ``_`` and ``-`` in braces.
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\}")
_DIGITS = range(10, 16)
_VALIDITY = range(60, 1441)
_EARLIEST, _LATEST = timedelta(hours=1), timedelta(days=14)
_MAX_NAME = 255
_TYPES = {BULK, TEMPLATE}


@dataclass(frozen=True, slots=True)
class CampaignOrder:
    """A validated ``campaign/create``."""

    type: int
    text: str
    sender: str | None
    name: str | None
    validity: int | None
    deferred_to: datetime | None
    mclass: int | None
    shorten_links: int | None


@dataclass(frozen=True, slots=True)
class RecipientEntry:
    """One recipient of an ``addrecipients`` request: the number as sent, and its values."""

    number: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class BulkCampaign:
    """One campaign made by ``campaign/create``: its order, its messages, whether it was sent."""

    id: int
    order: CampaignOrder
    created_at: datetime
    message_ids: list[int] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    sent_at: datetime | None = None
    send_status: int | None = None
    deleted_at: datetime | None = None


def _number(text: str | None, errors: dict[str, str], key: str, allowed: range) -> int | None:
    """Read a small whole number of ``data[key]``; outside ``allowed`` is an error."""
    if text is None:
        return None
    text = text.strip()
    if text.isascii() and text.isdigit() and int(text) in allowed:
        return int(text)
    errors[key] = f"{key} must be a whole number from {allowed.start} to {allowed.stop - 1}."
    return None


def validate_create(form: PhpForm, now: datetime) -> CampaignOrder | Answer:
    """Check a ``campaign/create`` form; a code 1 answer lists every wrong field."""
    data = as_mapping(form.get("data"))
    errors: dict[str, str] = {}
    kind = _number(as_text(data.get("type")) or str(BULK), errors, "type", range(1, 4))
    if kind is not None and kind not in _TYPES:
        errors["type"] = "Only bulk (2) and template (3) campaigns are simulated."
    text = as_text(data.get("text")) or ""
    if not text.strip():
        errors["text"] = "Message text is required."
    name = as_text(data.get("name")) or None
    if name is not None and len(name) > _MAX_NAME:
        errors["name"] = f"The campaign name is at most {_MAX_NAME} characters."
    validity = _number(as_text(data.get("validity")), errors, "validity", _VALIDITY)
    deferred_to = None
    if (deferred_text := as_text(data.get("deferredToTs"))) is not None:
        deferred_to = parse_timestamp(deferred_text)
        if deferred_to is None or not now + _EARLIEST <= deferred_to <= now + _LATEST:
            errors["deferredToTs"] = "Deferred time must be 1 hour to 14 days ahead."
    mclass = _number(as_text(data.get("mclass")), errors, "mclass", range(2))
    shorten = _number(as_text(data.get("shortenLinks")), errors, "shortenLinks", range(2))
    if errors:
        return invalid(errors)
    return CampaignOrder(
        type=kind or BULK,
        text=text,
        sender=as_text(data.get("from")) or None,
        name=name,
        validity=validity,
        deferred_to=deferred_to,
        mclass=mclass,
        shorten_links=shorten,
    )


def read_recipients(form: PhpForm) -> list[RecipientEntry] | Answer:
    """The recipients of an ``addrecipients`` request, as a list, a string or a list of maps."""
    given = form.get("recipients")
    if given is None:
        return Answer(11, [], "No recipients given.")
    entries: list[RecipientEntry] = []
    if isinstance(given, str):
        entries = [RecipientEntry(part.strip()) for part in re.split(r"[,\n]", given)]
        entries = [entry for entry in entries if entry.number]
    else:
        entries = [_entry(value) for value in given.values()]
    if not entries:
        return Answer(11, [], "No recipients given.")
    if len(entries) > MAX_RECIPIENTS:
        return Answer(12, [], f"At most {MAX_RECIPIENTS} recipients per request.")
    return entries


def _entry(value: PhpValue) -> RecipientEntry:
    """One element of ``recipients``: a number, or a map with ``recipient`` and its values."""
    if isinstance(value, str):
        return RecipientEntry(value)
    values = {key: text for key, text in value.items() if isinstance(text, str)}
    return RecipientEntry(values.pop("recipient", ""), values)


def placeholders_flag(form: PhpForm) -> int:
    """``params[placeholdersFlag]``; Mobizon's default keeps missing placeholders as typed."""
    flag = (as_text(as_mapping(form.get("params")).get("placeholdersFlag")) or "").strip()
    return int(flag) if flag in {"1", "2", "3"} else KEEP


def digits_of(number: str) -> str:
    """The number as Mobizon keeps it: every character but a digit removed."""
    return "".join(char for char in number if char.isascii() and char.isdigit())


def row_code(entry: RecipientEntry, digits: str, *, stop_list: frozenset[str]) -> int:
    """The row code of a recipient before duplicates and placeholders are looked at."""
    if not entry.number.strip():
        return EMPTY
    if len(digits) not in _DIGITS:
        return NOT_INTERNATIONAL
    return STOP_LIST if digits in stop_list else ADDED


def render(text: str, values: Mapping[str, str], flag: int) -> str | None:
    """A template's text for one recipient; ``None`` when a value is missing and ``flag`` refuses.

    A placeholder without a value is kept as typed (``flag`` 1) or removed (2).
    """
    missing = [name for name in PLACEHOLDER.findall(text) if name not in values]
    if missing and flag == REFUSE:
        return None

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return match.group(0) if flag == KEEP else ""

    return PLACEHOLDER.sub(fill, text)
