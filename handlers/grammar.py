"""The ``/sms`` command grammar: Slack's command text in, a typed command out (pure functions).

::

    /sms help
    /sms send [--from SENDER] [--at "YYYY-MM-DD HH:MM"] [--validity MINUTES] [--flash]
              [--name NAME] PHONE TEXT…
    /sms status [ID …]
    /sms find [FIELD:VALUE …]

:func:`parse_command` returns a :class:`HelpCommand`, :class:`SendCommand`,
:class:`StatusCommand` or :class:`FindCommand`, and raises :class:`UsageError` (a sentence and
the usage line) for every bad input, so nothing unchecked reaches Mobizon.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot.mobizon.types import PAGE_SIZES, SORT_FIELDS, ListCriteria, Sort
from bot.sending.segments import TooLongError, check_length
from handlers.phone import PhoneNumberError, format_phone, parse_phone
from storage.status import DeliveryStatus

if TYPE_CHECKING:
    from collections.abc import Callable

#: The usage line of each subcommand, shown under every error about it.
USAGE: dict[str, str] = {
    "help": "Usage: /sms help",
    "send": (
        'Usage: /sms send [--from SENDER] [--at "YYYY-MM-DD HH:MM"] [--validity MINUTES]'
        " [--flash] [--name NAME] PHONE TEXT…"
    ),
    "status": "Usage: /sms status [ID …]",
    "find": (
        "Usage: /sms find [FIELD:VALUE …] with fields to, from, text, status, campaign, group,"
        " sent-after, sent-before, updated-after, updated-before, page, size, sort"
    ),
}

#: One usage line naming all four forms, for an unknown subcommand.
GENERAL_USAGE = (
    "Usage: /sms send [OPTIONS] PHONE TEXT… | /sms status [ID …] | /sms find [FIELD:VALUE …]"
    " | /sms help"
)

#: The full help, in Slack mrkdwn.
HELP_TEXT = """\
*Send SMS from Slack with `/sms`*

*Send* an SMS. Options go before the number; everything after the number is the text, exactly \
as typed (at most 10 SMS segments):
`/sms send +55 11 98765-4321 Your order is ready`
`/sms send --from MyShop --name "Black Friday" 5511987654321 Sale starts now`
`/sms send --at "2026-12-01 14:30" --validity 120 (11) 98765-4321 See you tomorrow`
`/sms send --flash +55 11 98765-4321 Your code is 1234`
• `--from SENDER`: the sender name, up to 11 letters and digits, or up to 15 digits
• `--at "YYYY-MM-DD HH:MM"`: send later, from 1 hour to 14 days ahead, in the time zone of \
the Mobizon account
• `--validity MINUTES`: how long to keep trying to deliver, 60 to 1440
• `--flash`: show the SMS on the screen without saving it
• `--name NAME`: the campaign name
A number without a country code is read in the bot's default region; put its area code in \
parentheses, like `(11) 98765-4321`, so it cannot be mistaken for a country code.

*Status* of SMS by id; with no id, the latest SMS sent from this channel:
`/sms status`   `/sms status 6300284`   `/sms status 6300284, 6300285 6300290`

*Find* SMS sent through Mobizon; fields combine, values with spaces go in quotes:
`/sms find to:5511 status:DELIVRD`
`/sms find text:"Your order is ready" sent-after:2026-01-01 sort:-sent size:50 page:2`
• `to:` digits of the number, or part of them
• `from:` the sender name
• `text:` the exact text
• `status:` NEW, ENQUEUD, ACCEPTD, PDLIVRD, DELIVRD, UNDELIV, REJECTD, EXPIRED or DELETED
• `campaign:` campaign ids, comma-separated
• `group:` contact group ids, comma-separated
• `sent-after:` `sent-before:` `updated-after:` `updated-before:` a date `2026-01-31` \
or a quoted date and time `"2026-01-31 14:30"`, in the Mobizon account's time zone
• `page:` the page, from 1
• `size:` results per page: 25, 50 or 100
• `sort:` id, sent, updated, to, from, status, text, segments or campaign; a leading `-` puts \
the largest or newest first (default `-sent`)

*Help*: `/sms help`"""

#: The longest value a Block Kit button may carry.
BUTTON_VALUE_LIMIT = 2000

_DEFAULT_SORT = Sort("startSendTs", descending=True)
_QUOTE_LIMIT = 40


class UsageError(ValueError):
    """The command text is not valid ``/sms`` input.

    ``sentence`` says what is wrong in one plain sentence ending with "."; ``usage`` is the usage
    line to show under it. ``str(error)`` is both, on two lines. Both may quote what the user
    typed, so escape them for Slack (:func:`handlers.mrkdwn.escape`) before posting as mrkdwn.
    """

    def __init__(self, sentence: str, usage: str) -> None:
        super().__init__(f"{sentence}\n{usage}")
        self.sentence = sentence
        self.usage = usage


@dataclass(frozen=True, slots=True)
class HelpCommand:
    """``/sms help``, or ``/sms`` with nothing after it."""


@dataclass(frozen=True, slots=True)
class SendCommand:
    """``/sms send``: one SMS to one number.

    ``recipient`` is international digits without ``+``; ``text`` is exactly what was typed after
    the number, unescaped; ``at`` is the time as written, seconds 0, in the zone of the ``now``
    it was checked against (the Mobizon account's).
    """

    recipient: str
    text: str
    sender: str | None = None
    at: datetime | None = None
    validity: int | None = None
    flash: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """``/sms status``: message ids in the order given; empty means the channel's latest SMS."""

    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FindCommand:
    """``/sms find``: search criteria and which page of results to show.

    ``page`` is 1-based, as people count; :attr:`wire_page` is Mobizon's 0-based page.
    """

    criteria: ListCriteria = dataclasses.field(default_factory=ListCriteria)
    page: int = 1
    page_size: int = PAGE_SIZES[0]
    sort: Sort = _DEFAULT_SORT

    @property
    def wire_page(self) -> int:
        """The page number Mobizon expects (``pagination[currentPage]`` starts at 0)."""
        return self.page - 1


Command = HelpCommand | SendCommand | StatusCommand | FindCommand


def parse_command(text: str, *, default_region: str, now: datetime) -> Command:
    """Parse the text of a ``/sms`` slash command as Slack sends it.

    ``default_region`` (e.g. ``"BR"``) reads numbers written without a country code; ``now`` is
    the time ``--at`` is checked against, aware in the Mobizon account's zone (``--at`` is read
    in that zone) or naive local time. Raises :class:`UsageError` for any
    input that is not a valid command.
    """
    text = unescape_slack(text)
    first = _FIRST_WORD.match(text)
    word = first.group(1) if first else ""
    rest = text[first.end() :] if first else ""
    subcommand = word.lower()
    if subcommand in {"", "help"}:
        return HelpCommand()
    if subcommand == "send":
        return _parse_send(rest, default_region=default_region, now=now)
    if subcommand == "status":
        return _parse_status(rest)
    if subcommand == "find":
        return _parse_find(rest)
    raise UsageError(
        f"I don't know the command “{_quote(word)}”; use send, status, find or help.",
        GENERAL_USAGE,
    )


# ---------------------------------------------------------------- Slack escaping

_FIRST_WORD = re.compile(r"\s*(\S*)")
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of command text: link markup first, then ``&amp;`` ``&lt;`` ``&gt;``.

    Links become their label (``<tel:+5511…|+55 11 …>`` -> ``+55 11 …``) or their address
    (``<https://x>`` -> ``https://x``); mentions stay readable (``@U123``, ``#general``,
    ``@here``). Entities are undone in one pass, so ``&amp;lt;`` becomes ``&lt;``.
    """
    text = _MARKUP.sub(_undo_markup, text)
    return _ENTITY.sub(lambda match: _ENTITIES[match.group(1)], text)


def _undo_markup(match: re.Match[str]) -> str:
    """Turn one ``<target|label>`` into the text a person would read."""
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#")):
        return target[0] + label if label else target
    if target.startswith("!"):
        # Special mentions: <!here>, <!subteam^S1|@team>, <!date^…|fallback>.
        return label or "@" + target[1:].split("^", 1)[0]
    if label:
        return label
    for scheme in ("tel:", "mailto:"):
        if target.startswith(scheme):
            return target.removeprefix(scheme)
    return target


# ---------------------------------------------------------------- send

# Slack and macOS autocorrect turn "--" into an em or en dash.
_OPTION = re.compile("(?:--|\u2014|\u2013)([^\\s=]*)")
_OPTIONS = ("from", "at", "validity", "flash", "name")
_OPTION_NEEDS = {
    "from": "the sender name",
    "at": "a date and time like 2026-12-01 14:30",
    "validity": "minutes from 60 to 1440",
    "name": "the campaign name",
}
# Slack and macOS autocorrect turn straight quotes into curly ones.
_DOUBLE_QUOTES = '"\u201c\u201d\u201e'
_SINGLE_QUOTES = "'\u2018\u2019"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}")
_DATE_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)
_NUMERIC_SENDER = re.compile(r"[0-9]+")
_ALPHA_SENDER = re.compile(r"[A-Za-z0-9]+")
_MAX_ALPHA_SENDER, _MAX_NUMERIC_SENDER = 11, 15
_VALIDITY_MINUTES = range(60, 1441)
_SCHEDULE_MIN, _SCHEDULE_MAX = timedelta(hours=1), timedelta(days=14)


def _parse_send(rest: str, *, default_region: str, now: datetime) -> SendCommand:
    """Parse what follows ``send``: options, the number, then the text verbatim."""
    usage = USAGE["send"]
    options: dict[str, Any] = {}
    pos = _skip_space(rest, 0)
    while option := _OPTION.match(rest, pos):
        name = option.group(1).lower()
        if name not in _OPTIONS:
            raise UsageError(
                f"“{_quote('--' + option.group(1))}” is not an option of /sms send; "
                "the options are --from, --at, --validity, --flash and --name.",
                usage,
            )
        if name in options:
            raise UsageError(f"“--{name}” is given twice; give each option once.", usage)
        pos = option.end()
        inline = rest.startswith("=", pos)
        if name == "flash":
            if inline:
                raise UsageError("“--flash” takes no value.", usage)
            options[name] = True
        else:
            raw, pos = _read_value(rest, pos + 1 if inline else pos, name)
            # Checked as read, so errors come in the order the options were typed.
            options[name] = _OPTION_CHECKS[name](raw, now)
        pos = _skip_space(rest, pos)

    remainder = rest[pos:]
    if not remainder.strip():
        raise UsageError("Give the phone number and the text to send.", usage)
    try:
        recipient, end = parse_phone(remainder, default_region)
    except PhoneNumberError as error:
        raise UsageError(error.sentence, usage) from error
    # Only the whitespace run between number and text goes; the text is kept as typed.
    text = remainder[end:].lstrip()
    if not text.strip():
        raise UsageError(
            f"Give the text to send after the number {format_phone(recipient)}.", usage
        )
    try:
        check_length(text)
    except TooLongError as error:
        raise UsageError(error.sentence, usage) from error
    return SendCommand(
        recipient=recipient,
        text=text,
        sender=options.get("from"),
        at=options.get("at"),
        validity=options.get("validity"),
        flash=options.get("flash", False),
        name=options.get("name"),
    )


def _skip_space(text: str, pos: int) -> int:
    """Return the first position at or after ``pos`` that is not whitespace."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _token_end(text: str, pos: int) -> int:
    """Return the position of the first whitespace at or after ``pos`` (or the end)."""
    while pos < len(text) and not text[pos].isspace():
        pos += 1
    return pos


def _read_value(text: str, pos: int, name: str) -> tuple[str, int]:
    """Read the value of option ``--name`` at ``pos``: quoted, one word, or a date and time."""
    usage = USAGE["send"]
    missing = UsageError(f"“--{name}” needs a value: {_OPTION_NEEDS[name]}.", usage)
    if pos < len(text) and text[pos].isspace():
        pos = _skip_space(text, pos)
    if pos >= len(text):
        raise missing
    if _is_quote(text[pos]):
        quoted = _read_quoted(text, pos)
        if quoted is None:
            raise UsageError(f"The quote after “--{name}” is never closed.", usage)
        return quoted
    end = _token_end(text, pos)
    value = text[pos:end]
    if _OPTION.match(value):
        raise missing  # the next word is another option
    if name == "at" and _DATE.fullmatch(value):
        # The time may follow the date as a second word: --at 2026-12-01 14:30.
        time_start = _skip_space(text, end)
        time_end = _token_end(text, time_start)
        if _TIME.fullmatch(text[time_start:time_end]):
            return f"{value} {text[time_start:time_end]}", time_end
    return value, end


def _is_quote(char: str) -> bool:
    """Tell whether ``char`` opens a quoted value (straight or curly, double or single)."""
    return char in _DOUBLE_QUOTES or char in _SINGLE_QUOTES


def _read_quoted(text: str, pos: int) -> tuple[str, int] | None:
    """Read the quoted value opening at ``pos``; return it and the position after it.

    The value ends at the first quote of the same kind (straight and curly count alike) that is
    followed by whitespace or the end, so an apostrophe inside it stays (``'Joe's sale'``). Nothing
    inside is escaped or changed. Returns ``None`` when no quote closes it.
    """
    family = _DOUBLE_QUOTES if text[pos] in _DOUBLE_QUOTES else _SINGLE_QUOTES
    for index in range(pos + 1, len(text)):
        if text[index] in family and (index + 1 == len(text) or text[index + 1].isspace()):
            return text[pos + 1 : index], index + 1
    return None


def _check_sender(value: str, _now: datetime) -> str:
    """Validate ``--from``: 1 to 11 letters and digits, or up to 15 digits."""
    usage = USAGE["send"]
    if not value:
        raise UsageError(f"“--from” needs a value: {_OPTION_NEEDS['from']}.", usage)
    if _NUMERIC_SENDER.fullmatch(value):
        if len(value) > _MAX_NUMERIC_SENDER:
            raise UsageError(
                f"The sender “{_quote(value)}” is {len(value)} digits long; "
                f"a numeric sender has at most {_MAX_NUMERIC_SENDER}.",
                usage,
            )
        return value
    if not _ALPHA_SENDER.fullmatch(value):
        raise UsageError(
            f"The sender “{_quote(value)}” may hold only letters A-Z and digits "
            f"(at most {_MAX_ALPHA_SENDER}, or up to {_MAX_NUMERIC_SENDER} digits).",
            usage,
        )
    if len(value) > _MAX_ALPHA_SENDER:
        raise UsageError(
            f"The sender “{_quote(value)}” is {len(value)} characters long; "
            f"a sender with letters has at most {_MAX_ALPHA_SENDER}.",
            usage,
        )
    return value


def _check_schedule(value: str, now: datetime) -> datetime:
    """Validate ``--at``: a date and time from 1 hour to 14 days after ``now``."""
    usage = USAGE["send"]
    match = _DATE_TIME.fullmatch(value.strip())
    if match is None or match["H"] is None or match["S"] is not None:
        raise UsageError(
            f"“--at {_quote(value)}” is not a date and time like 2026-12-01 14:30.", usage
        )
    at = _to_datetime(match, value, usage).replace(tzinfo=now.tzinfo)
    earliest, latest = now + _SCHEDULE_MIN, now + _SCHEDULE_MAX
    ahead = "SMS can be scheduled 1 hour to 14 days ahead"
    if at <= now:
        raise UsageError(
            f"“--at {_minutes(at)}” is in the past (it is {_minutes(now)} now); {ahead}.", usage
        )
    if at < earliest:
        raise UsageError(
            f"“--at {_minutes(at)}” is less than 1 hour from now ({_minutes(now)}); {ahead}.",
            usage,
        )
    if at > latest:
        raise UsageError(
            f"“--at {_minutes(at)}” is more than 14 days from now ({_minutes(now)}); {ahead}.",
            usage,
        )
    return at


def _minutes(moment: datetime) -> str:
    """A time to the minute, with its zone when it has one: ``2026-12-01 14:30 -03``."""
    zone = moment.tzname() if moment.tzinfo is not None else None
    return f"{moment:%Y-%m-%d %H:%M}" + (f" {zone}" if zone else "")


def _check_validity(value: str, _now: datetime) -> int:
    """Validate ``--validity``: whole minutes from 60 to 1440."""
    if value.isascii() and value.isdigit() and len(value) <= len("1440"):
        minutes = int(value)
        if minutes in _VALIDITY_MINUTES:
            return minutes
    raise UsageError(
        f"“--validity {_quote(value)}” must be whole minutes from 60 to 1440.", USAGE["send"]
    )


def _check_name(value: str, _now: datetime) -> str:
    """Validate ``--name``: any non-blank campaign name."""
    name = value.strip()
    if not name:
        raise UsageError("“--name” needs a value: the campaign name.", USAGE["send"])
    return name


_OPTION_CHECKS: dict[str, Callable[[str, datetime], object]] = {
    "from": _check_sender,
    "at": _check_schedule,
    "validity": _check_validity,
    "name": _check_name,
}


# ---------------------------------------------------------------- status

_ID_SEPARATORS = re.compile(r"[\s,]+")
_ID = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1  # ids are stored as SQLite integers


def _parse_status(rest: str) -> StatusCommand:
    """Parse what follows ``status``: message ids separated by spaces and/or commas."""
    ids: dict[int, None] = {}  # a dict keeps the first-seen order while dropping repeats
    for token in _ID_SEPARATORS.split(rest):
        if not token:
            continue
        if not _ID.fullmatch(token) or not 0 < int(token) <= _MAX_ID:
            raise UsageError(
                f"“{_quote(token)}” is not a message id; ids are whole numbers above 0, "
                "separated by spaces or commas.",
                USAGE["status"],
            )
        ids[int(token)] = None
    return StatusCommand(tuple(ids))


# ---------------------------------------------------------------- find

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
_FIND_FIELD_LIST = ", ".join(_FIND_FIELDS)
_DATE_FIELDS = frozenset({"sent-after", "sent-before", "updated-after", "updated-before"})
# A word that may continue a number written with spaces: "to:+55 11 98765-4321".
_NUMBER_PIECE = re.compile(r"[0-9+().\-]*[0-9][0-9+().\-]*")
_STATUS_ALIASES: dict[str, str] = {status.name.lower(): status.value for status in DeliveryStatus}
_STATUS_ALIASES |= {
    "queued": DeliveryStatus.ENQUEUD,
    "enqueued": DeliveryStatus.ENQUEUD,
    "accepted": DeliveryStatus.ACCEPTD,
    "delivered": DeliveryStatus.DELIVRD,
    "undelivered": DeliveryStatus.UNDELIV,
    "rejected": DeliveryStatus.REJECTD,
}
_SORT_ALIASES: dict[str, str] = {field.lower(): field for field in SORT_FIELDS}
_SORT_ALIASES |= {
    "sent": "startSendTs",
    "updated": "statusUpdateTs",
    "segments": "segNum",
    "campaign": "campaignId",
}
_MAX_CAMPAIGN_IDS = 100  # Mobizon searches only the first 100
_MAX_PAGE = 10**6
_PAGE_MARGIN = 16


def _parse_find(rest: str) -> FindCommand:
    """Parse what follows ``find``: ``field:value`` pairs, values quoted when they hold spaces."""
    usage = USAGE["find"]
    words = _find_words(rest)
    values: dict[str, str] = {}
    index = 0
    while index < len(words):
        token, quoted = words[index]
        index += 1
        if quoted:
            raise UsageError(
                f"“{_quote(token)}” is not FIELD:VALUE; put the field before the quote, "
                'like text:"Your order is ready".',
                usage,
            )
        field, colon, value = token.partition(":")
        field = field.lower()
        if not colon:
            raise UsageError(
                f"“{_quote(token)}” is not FIELD:VALUE; the fields are {_FIND_FIELD_LIST}.", usage
            )
        if field not in _FIND_FIELDS:
            raise UsageError(
                f"“{_quote(field)}” is not a search field; the fields are {_FIND_FIELD_LIST}.",
                usage,
            )
        if field in values:
            raise UsageError(f"“{field}” is given twice; give each field once.", usage)
        value, index = _continue_value(words, index, field, value)
        if not value:
            raise UsageError(f"“{field}:” needs a value.", usage)
        values[field] = value
    command = _build_find(values)
    # The margin lets the Previous/Next buttons carry a page number a few digits longer.
    if len(encode_find(command)) > BUTTON_VALUE_LIMIT - _PAGE_MARGIN:
        raise UsageError("The search is too long; shorten its values.", usage)
    return command


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
        field in _DATE_FIELDS
        and _DATE.fullmatch(value)
        and index < len(words)
        and _TIME.fullmatch(words[index][0])
    ):
        # sent-after:2026-01-31 14:30 without quotes: the time is the next word.
        value, index = f"{value} {words[index][0]}", index + 1
    return value, index


def _is_find_pair(word: tuple[str, bool]) -> bool:
    """Tell whether a word (not wholly quoted) starts with a known ``field:``."""
    token, quoted = word
    field, colon, _ = token.partition(":")
    return not quoted and bool(colon) and field.lower() in _FIND_FIELDS


def _find_words(rest: str) -> list[tuple[str, bool]]:
    """Split find text into words, each with whether it was wholly quoted.

    A quote opens a value at the start of a word or right after ``field:``
    (``text:"a b"``, ``text: 'a b'``); the value is kept exactly as typed, curly quotes,
    apostrophes and backslashes included.
    """
    words: list[tuple[str, bool]] = []
    pos = _skip_space(rest, 0)
    while pos < len(rest):
        end = _token_end(rest, pos)
        word = rest[pos:end]
        field, colon, _ = word.partition(":")
        start = pos if _is_quote(rest[pos]) else pos + len(field) + 1
        if (colon or start == pos) and start < len(rest) and _is_quote(rest[start]):
            quoted = _read_quoted(rest, start)
            if quoted is None:
                after = f"after “{_quote(field)}:”" if start > pos else "in the search"
                raise UsageError(f"The quote {after} is never closed.", USAGE["find"])
            value, end = quoted
            words.append((rest[pos:start] + value, start == pos))
        else:
            words.append((word, False))
        pos = _skip_space(rest, end)
    return words


def _build_find(values: dict[str, str]) -> FindCommand:
    """Check each find field's value and assemble the command."""
    criteria: dict[str, Any] = {
        attribute: parse(field, values[field])
        for field, (attribute, parse) in _CRITERIA_PARSERS.items()
        if field in values
    }
    for after, before in (("sent-after", "sent-before"), ("updated-after", "updated-before")):
        low, high = _CRITERIA_PARSERS[after][0], _CRITERIA_PARSERS[before][0]
        if low in criteria and high in criteria and criteria[low] > criteria[high]:
            raise UsageError(
                f"“{after}” is later than “{before}”, so nothing can match.", USAGE["find"]
            )
    return FindCommand(
        criteria=ListCriteria(**criteria),
        page=_page(values["page"]) if "page" in values else 1,
        page_size=_page_size(values["size"]) if "size" in values else PAGE_SIZES[0],
        sort=_sort(values["sort"]) if "sort" in values else _DEFAULT_SORT,
    )


def _recipient(field: str, value: str) -> str:
    """Parse ``to:`` as the digits of a number or part of one (Mobizon matches parts)."""
    digits = re.sub(r"[^0-9]", "", value)
    if not digits:
        raise UsageError(
            f"“{field}:{_quote(value)}” needs the digits of a number, or part of them.",
            USAGE["find"],
        )
    return digits


def _as_typed(_field: str, value: str) -> str:
    """Keep ``from:`` and ``text:`` exactly as typed."""
    return value


def _status(field: str, value: str) -> str:
    """Parse ``status:`` as a Mobizon status name or a plain word for one."""
    status = _STATUS_ALIASES.get(value.lower())
    if status is None:
        raise UsageError(
            f"“{field}:{_quote(value)}” is not a status; use one of {', '.join(DeliveryStatus)}.",
            USAGE["find"],
        )
    return str(status)


def _groups(field: str, value: str) -> tuple[str, ...]:
    """Parse ``group:`` as comma-separated group ids."""
    groups = tuple(dict.fromkeys(group.strip() for group in value.split(",") if group.strip()))
    if not groups:
        raise UsageError(f"“{field}:” needs group ids, separated by commas.", USAGE["find"])
    return groups


def _campaign_ids(_field: str, value: str) -> tuple[int, ...]:
    """Parse ``campaign:`` as comma-separated positive ids (at most 100)."""
    ids: dict[int, None] = {}
    for item in value.split(","):
        token = item.strip()
        if not _ID.fullmatch(token) or not 0 < int(token) <= _MAX_ID:
            raise UsageError(
                f"“{_quote(token)}” in campaign: is not a campaign id; "
                "use whole numbers separated by commas.",
                USAGE["find"],
            )
        ids[int(token)] = None
    if len(ids) > _MAX_CAMPAIGN_IDS:
        raise UsageError(
            f"“campaign:” has {len(ids)} ids; Mobizon searches at most {_MAX_CAMPAIGN_IDS}.",
            USAGE["find"],
        )
    return tuple(ids)


def _find_time(field: str, value: str) -> datetime:
    """Parse a date field: a bare date covers the whole day (start for after, end for before)."""
    usage = USAGE["find"]
    match = _DATE_TIME.fullmatch(value.strip())
    if match is None:
        raise UsageError(
            f"“{field}:{_quote(value)}” is not a date like 2026-01-31 "
            'or a date and time like "2026-01-31 14:30".',
            usage,
        )
    moment = _to_datetime(match, value, usage)
    if match["H"] is None and field.endswith("-before"):
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment


_CRITERIA_PARSERS: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "to": ("recipient", _recipient),
    "from": ("sender", _as_typed),
    "text": ("text", _as_typed),
    "status": ("status", _status),
    "campaign": ("campaign_ids", _campaign_ids),
    "group": ("groups", _groups),
    "sent-after": ("sent_from", _find_time),
    "sent-before": ("sent_to", _find_time),
    "updated-after": ("updated_from", _find_time),
    "updated-before": ("updated_to", _find_time),
}


def _page(value: str) -> int:
    """Parse ``page:`` as a page number from 1."""
    if _ID.fullmatch(value) and 0 < int(value) <= _MAX_PAGE:
        return int(value)
    raise UsageError(f"“page:{_quote(value)}” must be a page number from 1.", USAGE["find"])


def _page_size(value: str) -> int:
    """Parse ``size:`` as one of the page sizes Mobizon accepts."""
    if _ID.fullmatch(value) and int(value) in PAGE_SIZES:
        return int(value)
    raise UsageError(f"“size:{_quote(value)}” must be 25, 50 or 100.", USAGE["find"])


def _sort(value: str) -> Sort:
    """Parse ``sort:`` as a field or alias, ``-`` first for descending."""
    descending = value.startswith("-")
    field = _SORT_ALIASES.get(value.removeprefix("-").removeprefix("+").lower())
    if field is None:
        raise UsageError(
            f"“sort:{_quote(value)}” is not a sort field; use id, sent, updated, to, from, "
            "status, text, segments or campaign, with a leading - for largest or newest first.",
            USAGE["find"],
        )
    return Sort(field, descending=descending)


def _to_datetime(match: re.Match[str], value: str, usage: str) -> datetime:
    """Build the datetime a :data:`_DATE_TIME` match names, refusing impossible dates."""
    try:
        return datetime(  # noqa: DTZ001 - times are naive local time, as typed
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
        )
    except ValueError as error:
        raise UsageError(f"“{_quote(value)}” is not a real date and time.", usage) from error


# ---------------------------------------------------------------- find buttons

_CRITERIA_FIELDS = frozenset(field.name for field in dataclasses.fields(ListCriteria))
_TIME_CRITERIA = frozenset(name for name in _CRITERIA_FIELDS if name.endswith(("_from", "_to")))
_FORMAT_VERSION = 1
_T = TypeVar("_T")


def encode_find(command: FindCommand) -> str:
    """Encode a find command as compact JSON for a Block Kit button value.

    :func:`decode_find` gives the same command back; only criteria that are set are written.
    """
    criteria: dict[str, Any] = {}
    for field in dataclasses.fields(ListCriteria):
        value = getattr(command.criteria, field.name)
        if value is None or value == ():
            continue
        if isinstance(value, datetime):
            value = value.isoformat(sep=" ")
        elif isinstance(value, tuple):
            value = list(value)
        criteria[field.name] = value
    sort = ("-" if command.sort.descending else "") + command.sort.field
    payload = {
        "v": _FORMAT_VERSION,
        "c": criteria,
        "p": command.page,
        "n": command.page_size,
        "s": sort,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_find(value: str) -> FindCommand:
    """Decode a button value made by :func:`encode_find`.

    Raises :class:`UsageError` when the value is not one (an old or altered button).
    """
    try:
        if len(value) > 2 * BUTTON_VALUE_LIMIT:
            raise ValueError(value)  # noqa: TRY301 - one refusal path for every bad value
        return _find_from_payload(json.loads(value))
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise UsageError(
            "That button belongs to a search I can no longer read; run /sms find again.",
            USAGE["find"],
        ) from error


def _find_from_payload(payload: object) -> FindCommand:
    """Check the decoded JSON field by field; raise ``ValueError`` on anything unexpected."""
    if not isinstance(payload, dict) or payload.get("v") != _FORMAT_VERSION:
        raise ValueError(payload)
    raw = payload["c"]
    if not isinstance(raw, dict):
        raise TypeError(raw)
    criteria: dict[str, Any] = {}
    for name, item in raw.items():
        if name not in _CRITERIA_FIELDS:
            raise ValueError(name)
        if name in _TIME_CRITERIA:
            moment = datetime.fromisoformat(_expect(str, item))
            if moment.tzinfo is not None:
                raise ValueError(item)  # times are naive local time, as typed
            criteria[name] = moment
        elif name == "campaign_ids":
            criteria[name] = tuple(_expect_int(i) for i in _expect(list, item))
        elif name == "groups":
            criteria[name] = tuple(_expect(str, g) for g in _expect(list, item))
        else:
            criteria[name] = _expect(str, item)
    page, size = _expect_int(payload["p"]), _expect_int(payload["n"])
    sort = _expect(str, payload["s"])
    field = sort.removeprefix("-")
    if page < 1 or size not in PAGE_SIZES or field not in SORT_FIELDS:
        raise ValueError(payload)
    return FindCommand(
        criteria=ListCriteria(**criteria),
        page=page,
        page_size=size,
        sort=Sort(field, descending=sort.startswith("-")),
    )


def _expect(kind: type[_T], value: object) -> _T:
    """Return ``value`` when it is a ``kind``, else raise ``TypeError``."""
    if not isinstance(value, kind):
        raise TypeError(value)
    return value


def _expect_int(value: object) -> int:
    """Return ``value`` when it is a JSON integer (not a boolean), else raise ``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _quote(text: str) -> str:
    """Shorten typed text for an error sentence."""
    if len(text) <= _QUOTE_LIMIT:
        return text
    return text[: _QUOTE_LIMIT - 1] + "…"
