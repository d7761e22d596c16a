"""``/sms find``: ``field:value`` pairs into search criteria, a page, a page size and a sort."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.mobizon import PAGE_SIZES, ListCriteria, Sort
from handlers import formats
from handlers.grammar.commands import DEFAULT_SORT, FindCommand
from handlers.grammar.lexing import (
    ID,
    MAX_ID,
    TIME,
    is_date,
    is_quote,
    match_date_time,
    read_quoted,
    skip_space,
    to_datetime,
    token_end,
)
from handlers.grammar.usage import UsageError, usage_line
from handlers.grammar.words import FIND_FIELDS, SORT_KEYS, STATUS_WORDS
from handlers.i18n import gettext as _
from handlers.mrkdwn import short
from storage.status import DeliveryStatus

if TYPE_CHECKING:
    from collections.abc import Callable

#: The longest value a Block Kit button may carry.
BUTTON_VALUE_LIMIT = 2000
#: Room in a button value for the page number and the space after it (see ``find_buttons``).
PAGE_MARGIN = 16
#: The longest search text: its Previous/Next buttons carry it whole, after the page number.
MAX_FIND_TEXT = BUTTON_VALUE_LIMIT - PAGE_MARGIN

#: The fields, by their English names (what the parsers work with), in the order people read them.
_FIND_FIELDS = (
    "to",
    "from",
    "text",
    "status",
    "campaign",
    "group",
    "sent-after",
    "sent-before",
    "updated-after",
    "updated-before",
    "page",
    "size",
    "sort",
)
# A word that may continue a number written with spaces: "to:+55 11 98765-4321".
_NUMBER_PIECE = re.compile(r"[0-9+().\-]*[0-9][0-9+().\-]*")
_MAX_CAMPAIGN_IDS = 100  # Mobizon searches only the first 100
_MAX_PAGE = 10**6
#: The sort fields a refusal lists (Mobizon's names; shown as the reader's words).
_SORT_SHOWN = (
    "id",
    "startSendTs",
    "statusUpdateTs",
    "to",
    "from",
    "status",
    "text",
    "segNum",
    "campaignId",
)


def parse_find(rest: str, *, day_first: bool | None = None) -> FindCommand:
    """Parse what follows ``find``: ``field:value`` pairs, values quoted when they hold spaces.

    Fields and words are accepted in every language (``para:5511 status:entregue``); dates are
    year first, or day first (``30/11/2026``) when ``day_first`` (default: the reader's language
    writes dates so). ``rest`` is already unescaped; the command keeps it, stripped, as its
    ``source``, which the Previous/Next buttons carry to parse again. A search longer than
    :data:`MAX_FIND_TEXT` is refused: its buttons could not carry it.
    """
    usage = usage_line("find")
    words = _find_words(rest)
    values: dict[str, str] = {}
    shown: dict[str, str] = {}  # how each field is named to the reader, by its English name
    index = 0
    while index < len(words):
        token, quoted = words[index]
        index += 1
        if quoted:
            raise UsageError(
                _(
                    "“%(token)s” is not FIELD:VALUE; put the field before the quote, "
                    'like text:"Your order is ready".'
                )
                % {"token": short(token)},
                usage,
            )
        typed, colon, value = token.partition(":")
        if not colon:
            raise UsageError(
                _("“%(token)s” is not FIELD:VALUE; the fields are %(fields)s.")
                % {"token": short(token), "fields": field_list()},
                usage,
            )
        field = FIND_FIELDS.meaning(typed)
        if field is None:
            raise UsageError(
                _("“%(field)s” is not a search field; the fields are %(fields)s.")
                % {"field": short(typed.lower()), "fields": field_list()},
                usage,
            )
        if field in values:
            raise UsageError(
                _("“%(field)s” is given twice; give each field once.")
                % {"field": FIND_FIELDS.shown(typed, field)},
                usage,
            )
        shown[field] = FIND_FIELDS.shown(typed, field)
        value, index = _continue_value(words, index, field, value)
        if not value:
            raise UsageError(_("“%(field)s:” needs a value.") % {"field": shown[field]}, usage)
        values[field] = value
    source = rest.strip()
    command = replace(_build_find(values, shown, day_first=day_first), source=source)
    if len(source) > MAX_FIND_TEXT:
        raise UsageError(_("The search is too long; shorten its values."), usage)
    return command


def field_list() -> str:
    """The find fields in the reader's language, comma-separated: ``to, from, text, …``."""
    return FIND_FIELDS.listed(_FIND_FIELDS)


def _continue_value(
    words: list[tuple[str, bool]], index: int, field: str, value: str
) -> tuple[str, int]:
    """Take the words that finish the value of ``field``; return it and the next word's index."""
    if not value and index < len(words) and not _is_find_pair(words[index]):
        # "to: 5511": the value came as the next word.
        value, index = words[index][0], index + 1
    while (
        field == "to"
        and index < len(words)
        and not words[index][1]
        and _NUMBER_PIECE.fullmatch(words[index][0])
    ):
        # to:+55 11 98765-4321 without quotes: the number goes on in the next words.
        value, index = f"{value} {words[index][0]}", index + 1
    if (
        field in _DATE_ATTRIBUTES
        and is_date(value)
        and index < len(words)
        and TIME.fullmatch(words[index][0])
    ):
        # sent-after:2026-01-31 14:30 without quotes: the time is the next word.
        value, index = f"{value} {words[index][0]}", index + 1
    return value, index


def _is_find_pair(word: tuple[str, bool]) -> bool:
    """Tell whether a word (not wholly quoted) starts with a known ``field:``."""
    token, quoted = word
    field, colon, _value = token.partition(":")
    return not quoted and bool(colon) and FIND_FIELDS.meaning(field) is not None


def _find_words(rest: str) -> list[tuple[str, bool]]:
    """Split find text into words, each with whether it was wholly quoted.

    A quote opens a value at the start of a word or right after ``field:``
    (``text:"a b"``, ``text: 'a b'``); the value is kept exactly as typed, curly quotes,
    apostrophes and backslashes included.
    """
    words: list[tuple[str, bool]] = []
    pos = skip_space(rest, 0)
    while pos < len(rest):
        end = token_end(rest, pos)
        word = rest[pos:end]
        field, colon, _value = word.partition(":")
        start = pos if is_quote(rest[pos]) else pos + len(field) + 1
        if (colon or start == pos) and start < len(rest) and is_quote(rest[start]):
            quoted = read_quoted(rest, start)
            if quoted is None:
                unclosed = (
                    _("The quote after “%(field)s:” is never closed.") % {"field": short(field)}
                    if start > pos
                    else _("The quote in the search is never closed.")
                )
                raise UsageError(unclosed, usage_line("find"))
            value, end = quoted
            words.append((rest[pos:start] + value, start == pos))
        else:
            words.append((word, False))
        pos = skip_space(rest, end)
    return words


def _build_find(
    values: dict[str, str], shown: dict[str, str], *, day_first: bool | None
) -> FindCommand:
    """Check each find field's value and assemble the command.

    ``values`` and ``shown`` (how each field is named in sentences) are keyed by English names.
    """
    criteria: dict[str, Any] = {
        attribute: parse(shown[field], values[field])
        for field, (attribute, parse) in _CRITERIA_PARSERS.items()
        if field in values
    }
    criteria |= {
        attribute: _find_time(
            shown[field], values[field], end_of_day=field.endswith("-before"), day_first=day_first
        )
        for field, attribute in _DATE_ATTRIBUTES.items()
        if field in values
    }
    for after, before in (("sent-after", "sent-before"), ("updated-after", "updated-before")):
        low, high = _DATE_ATTRIBUTES[after], _DATE_ATTRIBUTES[before]
        if low in criteria and high in criteria and criteria[low] > criteria[high]:
            raise UsageError(
                _("“%(after)s” is later than “%(before)s”, so nothing can match.")
                % {
                    "after": shown.get(after, FIND_FIELDS.word(after)),
                    "before": shown.get(before, FIND_FIELDS.word(before)),
                },
                usage_line("find"),
            )
    return FindCommand(
        criteria=ListCriteria(**criteria),
        page=_page(shown["page"], values["page"]) if "page" in values else 1,
        page_size=_page_size(shown["size"], values["size"]) if "size" in values else PAGE_SIZES[0],
        sort=_sort(shown["sort"], values["sort"]) if "sort" in values else DEFAULT_SORT,
    )


def _recipient(field: str, value: str) -> str:
    """Parse ``to:`` as the digits of a number or part of one (Mobizon matches parts)."""
    digits = re.sub(r"[^0-9]", "", value)
    if not digits:
        raise UsageError(
            _("“%(field)s:%(value)s” needs the digits of a number, or part of them.")
            % {"field": field, "value": short(value)},
            usage_line("find"),
        )
    return digits


def _as_typed(_field: str, value: str) -> str:
    """Keep ``from:`` and ``text:`` exactly as typed."""
    return value


def _status(field: str, value: str) -> str:
    """Parse ``status:`` as a Mobizon status name or a plain word for one."""
    status = STATUS_WORDS.meaning(value)
    if status is None:
        raise UsageError(
            _("“%(field)s:%(value)s” is not a status; use one of %(statuses)s.")
            % {"field": field, "value": short(value), "statuses": ", ".join(DeliveryStatus)},
            usage_line("find"),
        )
    return str(status)


def _groups(field: str, value: str) -> tuple[str, ...]:
    """Parse ``group:`` as comma-separated group ids."""
    groups = tuple(dict.fromkeys(group.strip() for group in value.split(",") if group.strip()))
    if not groups:
        raise UsageError(
            _("“%(field)s:” needs group ids, separated by commas.") % {"field": field},
            usage_line("find"),
        )
    return groups


def _campaign_ids(field: str, value: str) -> tuple[int, ...]:
    """Parse ``campaign:`` as comma-separated positive ids (at most 100)."""
    ids: dict[int, None] = {}
    for item in value.split(","):
        token = item.strip()
        if not ID.fullmatch(token) or not 0 < int(token) <= MAX_ID:
            raise UsageError(
                _(
                    "“%(token)s” is not a campaign id (in “%(field)s:”); "
                    "use whole numbers separated by commas."
                )
                % {"token": short(token), "field": field},
                usage_line("find"),
            )
        ids[int(token)] = None
    if len(ids) > _MAX_CAMPAIGN_IDS:
        raise UsageError(
            _("“%(field)s:” has %(count)s ids; Mobizon searches at most %(most)s.")
            % {
                "field": field,
                "count": formats.number(len(ids)),
                "most": formats.number(_MAX_CAMPAIGN_IDS),
            },
            usage_line("find"),
        )
    return tuple(ids)


def _find_time(
    field: str, value: str, *, end_of_day: bool = False, day_first: bool | None = None
) -> datetime:
    """Parse a date field: a bare date covers the whole day, to its end when ``end_of_day``.

    The ``-before`` fields read a bare date as its end; day first as :func:`parse_find` says.
    """
    usage = usage_line("find")
    match = match_date_time(value, usage, example="2026-01-31", day_first=day_first)
    if match is None:
        raise UsageError(
            _(
                "“%(field)s:%(value)s” is not a date like 2026-01-31 "
                'or a date and time like "2026-01-31 14:30".'
            )
            % {"field": field, "value": short(value)},
            usage,
        )
    moment = to_datetime(match, value, usage)
    if match["H"] is None and end_of_day:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment


_CRITERIA_PARSERS: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "to": ("recipient", _recipient),
    "from": ("sender", _as_typed),
    "text": ("text", _as_typed),
    "status": ("status", _status),
    "campaign": ("campaign_ids", _campaign_ids),
    "group": ("groups", _groups),
}
_DATE_ATTRIBUTES: dict[str, str] = {
    "sent-after": "sent_from",
    "sent-before": "sent_to",
    "updated-after": "updated_from",
    "updated-before": "updated_to",
}


def _page(field: str, value: str) -> int:
    """Parse ``page:`` as a page number from 1."""
    if ID.fullmatch(value) and 0 < int(value) <= _MAX_PAGE:
        return int(value)
    raise UsageError(
        _("“%(field)s:%(value)s” must be a page number from 1.")
        % {"field": field, "value": short(value)},
        usage_line("find"),
    )


def _page_size(field: str, value: str) -> int:
    """Parse ``size:`` as one of the page sizes Mobizon accepts."""
    if ID.fullmatch(value) and int(value) in PAGE_SIZES:
        return int(value)
    raise UsageError(
        _("“%(field)s:%(value)s” must be 25, 50 or 100.") % {"field": field, "value": short(value)},
        usage_line("find"),
    )


def _sort(shown: str, value: str) -> Sort:
    """Parse ``sort:`` as a field or alias, ``-`` first for descending."""
    descending = value.startswith("-")
    field = SORT_KEYS.meaning(value.removeprefix("-").removeprefix("+"))
    if field is None:
        raise UsageError(
            _(
                "“%(field)s:%(value)s” is not a sort field; use %(keys)s, "
                "with a leading - for largest or newest first."
            )
            % {"field": shown, "value": short(value), "keys": SORT_KEYS.listed(_SORT_SHOWN)},
            usage_line("find"),
        )
    return Sort(field, descending=descending)
