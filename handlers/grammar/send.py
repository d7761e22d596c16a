"""``/sms send``: options, the number (or a list of numbers), then the text exactly as typed."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.sms.sending.gsm_spelling import spelt_to_send
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.text import ControlCharacterError
from handlers import formats
from handlers.grammar.commands import SendCommand, SendManyCommand
from handlers.grammar.lexing import (
    TIME,
    is_date,
    is_quote,
    match_date_time,
    read_quoted,
    skip_space,
    to_datetime,
    token_end,
)
from handlers.grammar.send_list import split_recipients
from handlers.grammar.usage import UsageError, usage_line
from handlers.grammar.words import SEND_OPTIONS, reader_day_first
from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.mrkdwn import short
from handlers.phone import PhoneNumberError, format_phone, parse_phone

if TYPE_CHECKING:
    from collections.abc import Callable


# Slack and macOS autocorrect turn "--" into an em or en dash.
_OPTION = re.compile("(?:--|\u2014|\u2013)([^\\s=]*)")
_OPTIONS = ("from", "at", "validity", "flash", "name", "shorten-links", "gsm")
_FLAGS = ("flash", "shorten-links", "gsm")
_OPTION_NEEDS = {
    "from": N_("“--%(option)s” needs a value: the sender name."),
    "at": N_("“--%(option)s” needs a value: a date and time like %(example)s."),
    "validity": N_("“--%(option)s” needs a value: minutes from 60 to 1440."),
    "name": N_("“--%(option)s” needs a value: the campaign name."),
}
#: Why a ``--at`` time cannot be a schedule, by :func:`schedule_problem`'s answer.
_SCHEDULE_REFUSALS = {
    "past": N_(
        "“--%(option)s %(at)s” is in the past (it is %(now)s now); "
        "SMS can be scheduled 1 hour to 14 days ahead."
    ),
    "soon": N_(
        "“--%(option)s %(at)s” is less than 1 hour from now (%(now)s); "
        "SMS can be scheduled 1 hour to 14 days ahead."
    ),
    "late": N_(
        "“--%(option)s %(at)s” is more than 14 days from now (%(now)s); "
        "SMS can be scheduled 1 hour to 14 days ahead."
    ),
}
_NUMERIC_SENDER = re.compile(r"[0-9]+")
_ALPHA_SENDER = re.compile(r"[A-Za-z0-9]+")
_MAX_ALPHA_SENDER, _MAX_NUMERIC_SENDER = 11, 15
_VALIDITY_MINUTES = range(60, 1441)
_SCHEDULE_MIN, _SCHEDULE_MAX = timedelta(hours=1), timedelta(days=14)


def schedule_problem(at: datetime, now: datetime) -> Literal["past", "soon", "late"] | None:
    """Why ``at`` cannot be a schedule (1 hour to 14 days ahead), or ``None``.

    One rule for every surface that schedules: ``--at`` and the compose modal's picker.
    """
    if at <= now:
        return "past"
    if at < now + _SCHEDULE_MIN:
        return "soon"
    if at > now + _SCHEDULE_MAX:
        return "late"
    return None


def parse_send(rest: str, *, default_region: str, now: datetime) -> SendCommand | SendManyCommand:
    """Parse what follows ``send``: options, the number (or a list of them), then the text.

    The text is kept verbatim; where a list ends and the text begins,
    :mod:`handlers.grammar.send_list` says.
    """
    options: dict[str, Any] = {}
    shown: dict[str, str] = {}  # each option as sentences name it
    pos = skip_space(rest, 0)
    while option := _OPTION.match(rest, pos):
        typed = option.group(1)
        name = SEND_OPTIONS.meaning(typed) or ""
        if name not in _OPTIONS:
            raise UsageError(
                _("“%(option)s” is not an option of /sms send; the options are %(options)s.")
                % {
                    "option": short("--" + option.group(1)),
                    "options": ", ".join("--" + SEND_OPTIONS.word(o) for o in _OPTIONS),
                },
                usage_line("send"),
            )
        if name in options:
            raise UsageError(
                _("“--%(option)s” is given twice; give each option once.")
                % {"option": SEND_OPTIONS.shown(typed, name)},
                usage_line("send"),
            )
        shown[name] = SEND_OPTIONS.shown(typed, name)
        pos = option.end()
        inline = rest.startswith("=", pos)
        if name in _FLAGS:
            if inline:
                raise UsageError(
                    _("“--%(option)s” takes no value.")
                    % {"option": SEND_OPTIONS.shown(typed, name)},
                    usage_line("send"),
                )
            options[name] = True
        else:
            raw, pos = _read_value(rest, pos + 1 if inline else pos, name, typed)
            # Checked as read, so errors come in the order the options were typed.
            options[name] = _OPTION_CHECKS[name](raw, now, SEND_OPTIONS.shown(typed, name))
        pos = skip_space(rest, pos)

    remainder = rest[pos:]
    if not remainder.strip():
        raise UsageError(_("Give the phone number and the text to send."), usage_line("send"))
    recipients, text = _recipients_and_text(remainder, default_region)
    if options.get("gsm"):
        text = _without_accents(text, shown["gsm"])
    chosen = {
        "sender": options.get("from"),
        "at": options.get("at"),
        "validity": options.get("validity"),
        "flash": options.get("flash", False),
        "name": options.get("name"),
        "shorten_links": options.get("shorten-links", False),
    }
    # what every SMS text must be, the send service checks (bot.sms.sending.text.check_text)
    if isinstance(recipients, tuple):
        return SendManyCommand(recipients=recipients, text=text, **chosen)
    return SendCommand(recipient=recipients, text=text, **chosen)


def _recipients_and_text(remainder: str, default_region: str) -> tuple[str | tuple[str, ...], str]:
    """The number (digits) or list of numbers (as typed) ``remainder`` starts with, and the text.

    Refuses a number that cannot be read, and a text that is missing.
    """
    listed = split_recipients(remainder, default_region)
    recipients: str | tuple[str, ...]
    if listed is not None:
        recipients, text = listed
        last = short(recipients[-1])
    else:
        try:
            recipients, end = parse_phone(remainder, default_region)
        except PhoneNumberError as error:
            raise UsageError(error.sentence, usage_line("send")) from error
        # Only the whitespace run between number and text goes; the text is kept as typed.
        text = remainder[end:].lstrip()
        last = format_phone(recipients)
    if not text.strip():
        raise UsageError(
            _("Give the text to send after the number %(phone)s.") % {"phone": last},
            usage_line("send"),
        )
    return recipients, text


def _without_accents(text: str, option: str) -> str:
    """``--gsm``: the text's GSM-7 spelling (itself when it is GSM-7), or a refusal saying why.

    A text holding a control character is left for the send service to refuse in its words.
    """
    spelt = spelt_to_send(text)
    if isinstance(spelt, str):
        return spelt
    raise UsageError(no_plain_form(spelt.character, option), usage_line("send"))


def no_plain_form(character: str, option: str) -> str:
    """Why ``--option`` cannot send a text without accents: ``character`` has no GSM-7 form."""
    return _(
        "“--%(option)s” cannot send this text without accents: “%(character)s” (%(code)s) has "
        "no plain form an SMS of 160 characters can carry. Remove it, or leave out "
        "“--%(option)s”."
    ) % {"character": character, "code": f"U+{ord(character):04X}", "option": option}


def _read_value(text: str, pos: int, name: str, typed: str) -> tuple[str, int]:
    """Read the value of option ``--name`` (typed ``--typed``) at ``pos``.

    The value is quoted, one word, or a date and a time as two words.
    """
    usage = usage_line("send")
    missing = _needs_value(name, SEND_OPTIONS.shown(typed, name))
    if pos < len(text) and text[pos].isspace():
        pos = skip_space(text, pos)
    if pos >= len(text):
        raise missing
    if is_quote(text[pos]):
        quoted = read_quoted(text, pos)
        if quoted is None:
            raise UsageError(
                _("The quote after “--%(option)s” is never closed.")
                % {"option": SEND_OPTIONS.shown(typed, name)},
                usage,
            )
        return quoted
    end = token_end(text, pos)
    value = text[pos:end]
    if _OPTION.match(value):
        raise missing  # the next word is another option
    if name == "at" and is_date(value):
        # The time may follow the date as a second word: --at 2026-12-01 14:30.
        time_start = skip_space(text, end)
        time_end = token_end(text, time_start)
        if TIME.fullmatch(text[time_start:time_end]):
            return f"{value} {text[time_start:time_end]}", time_end
    return value, end


def _needs_value(name: str, option: str) -> UsageError:
    """The refusal of option ``--name``, shown as ``--option``, given without its value."""
    return UsageError(
        _(_OPTION_NEEDS[name]) % {"option": option, "example": _schedule_example()},
        usage_line("send"),
    )


def _schedule_example() -> str:
    """A date and time as the reader writes them for ``--at``: ``2026-12-01 14:30``."""
    return "01/12/2026 14:30" if reader_day_first() else "2026-12-01 14:30"


def _check_sender(value: str, _now: datetime, option: str) -> str:
    """Validate ``--from``: 1 to 11 letters and digits, or up to 15 digits."""
    usage = usage_line("send")
    if not value:
        raise _needs_value("from", option)
    if _NUMERIC_SENDER.fullmatch(value):
        if len(value) > _MAX_NUMERIC_SENDER:
            raise UsageError(
                _(
                    "The sender “%(sender)s” is %(length)d digits long; "
                    "a numeric sender has at most %(most)d."
                )
                % {"sender": short(value), "length": len(value), "most": _MAX_NUMERIC_SENDER},
                usage,
            )
        return value
    if not _ALPHA_SENDER.fullmatch(value):
        raise UsageError(
            _(
                "The sender “%(sender)s” may hold only letters A-Z and digits "
                "(at most %(most)d, or up to %(digits)d digits)."
            )
            % {"sender": short(value), "most": _MAX_ALPHA_SENDER, "digits": _MAX_NUMERIC_SENDER},
            usage,
        )
    if len(value) > _MAX_ALPHA_SENDER:
        raise UsageError(
            _(
                "The sender “%(sender)s” is %(length)d characters long; "
                "a sender with letters has at most %(most)d."
            )
            % {"sender": short(value), "length": len(value), "most": _MAX_ALPHA_SENDER},
            usage,
        )
    return value


def _check_schedule(value: str, now: datetime, option: str) -> datetime:
    """Validate ``--at``: a date and time from 1 hour to 14 days after ``now``.

    Year first always; day first (``01/12/2026 14:30``) where the reader's language writes so.
    """
    usage = usage_line("send")
    match = match_date_time(value, usage, example="2026-12-01 14:30")
    if match is None or match["H"] is None or match["S"] is not None:
        raise UsageError(
            _("“--%(option)s %(value)s” is not a date and time like %(example)s.")
            % {"option": option, "value": short(value), "example": _schedule_example()},
            usage,
        )
    at = to_datetime(match, value, usage).replace(tzinfo=now.tzinfo)
    problem = schedule_problem(at, now)
    moments = {
        "option": option,
        "at": formats.moment(at, seconds=False),
        "now": formats.moment(now, seconds=False),
    }
    if problem is not None:
        raise UsageError(_(_SCHEDULE_REFUSALS[problem]) % moments, usage)
    return at


def _check_validity(value: str, _now: datetime, option: str) -> int:
    """Validate ``--validity``: whole minutes from 60 to 1440."""
    if value.isascii() and value.isdigit() and len(value) <= len("1440"):
        minutes = int(value)
        if minutes in _VALIDITY_MINUTES:
            return minutes
    raise UsageError(
        _("“--%(option)s %(value)s” must be whole minutes from 60 to 1440.")
        % {"option": option, "value": short(value)},
        usage_line("send"),
    )


def _check_name(value: str, _now: datetime, option: str) -> str:
    """Validate ``--name``: a non-blank campaign name, one line with no control character."""
    name = value.strip()
    if not name:
        raise _needs_value("name", option)
    found = next((c for c in name if unicodedata.category(c) in {"Cc", "Cs"}), None)
    if found is not None:
        raise UsageError(
            _(
                "“--%(option)s” holds a control character (%(code)s); "
                "a campaign name is one line of plain text."
            )
            % {"option": option, "code": f"U+{ord(found):04X}"},
            usage_line("send"),
        )
    return name


_OPTION_CHECKS: dict[str, Callable[[str, datetime, str], object]] = {
    "from": _check_sender,
    "at": _check_schedule,
    "validity": _check_validity,
    "name": _check_name,
}


def too_long(error: TooLongError) -> str:
    """The refusal of a text longer than the segment limit, e.g. "The text is 11 SMS segments …"."""
    info = error.info
    return _(
        "The text is %(segments)s SMS segments long "
        "(%(length)s %(encoding)s characters); the limit is %(limit)s."
    ) % {
        "segments": formats.number(info.segments),
        "length": formats.number(info.length),
        "encoding": info.encoding,
        "limit": error.limit,
    }


def control_character(error: ControlCharacterError) -> str:
    """The refusal of a text holding a control character, e.g. "… (U+0000, character 1) …"."""
    return _(
        "The text holds a control character (%(code)s, character %(position)s), which an SMS "
        "cannot carry; remove it."
    ) % {"code": error.found.code, "position": formats.number(error.found.position)}


def text_refused(error: ControlCharacterError | TooLongError) -> str:
    """Why a text cannot be sent, for either rule of :func:`bot.sms.sending.text.check_text`."""
    if isinstance(error, ControlCharacterError):
        return control_character(error)
    return too_long(error)
