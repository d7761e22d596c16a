"""``/sms template add|list|remove`` and ``/sms send --template``; ``{placeholders}`` filled.

::

    /sms template add NAME TEXT
    /sms template list [page:N]
    /sms template remove NAME
    /sms send --template NAME PHONE [KEY=VALUE …]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.sms.sending.segments import MAX_SEGMENTS, count_segments, max_length
from bot.sms.sending.text import find_control
from handlers import formats
from handlers.grammar.lexing import is_quote, read_quoted, skip_space, token_end
from handlers.grammar.usage import UsageError, usage_line
from handlers.grammar.words import SEND_OPTIONS, TEMPLATE_ACTIONS, TEMPLATE_LIST_FIELDS
from handlers.i18n import gettext as _
from handlers.mrkdwn import short
from handlers.phone import PhoneNumberError, parse_phone

_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: ``{name}``: a letter or underscore, then letters, digits and underscores.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
_TEMPLATE_OPTION = re.compile(
    r"\s*(?:--|\u2014|\u2013)(?P<word>"
    + "|".join(map(re.escape, SEND_OPTIONS.spellings_of("template")))
    + r")(?=\s|=|$)",
    re.IGNORECASE,
)
_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_LIST_PAGE = re.compile(r"([^\s:]+):(\S*)")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")
#: The most placeholders one template may have: each is an input of the compose form.
MAX_PLACEHOLDERS = 20


@dataclass(frozen=True, slots=True)
class TemplateAddCommand:
    """``/sms template add``: save ``text`` as ``name``."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class TemplateListCommand:
    """``/sms template list``: the templates on ``page`` (from 1)."""

    page: int = 1


@dataclass(frozen=True, slots=True)
class TemplateRemoveCommand:
    """``/sms template remove``: delete ``name``."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplateSendCommand:
    """``/sms send --template``: template ``name`` filled with ``values``, to ``recipient``."""

    name: str
    recipient: str
    values: tuple[tuple[str, str], ...] = ()


TemplateCommand = TemplateAddCommand | TemplateListCommand | TemplateRemoveCommand


def placeholders(text: str) -> list[str]:
    """The placeholder names of ``text``, each once, in the order they first appear."""
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(text)))


def body_problem(text: str) -> str | None:
    """Why ``text`` cannot be a template's text, as a sentence; ``None`` when it can.

    The text is checked as written, placeholders unfilled: a control character, more segments
    than one SMS may take, or more than :data:`MAX_PLACEHOLDERS` placeholders.
    """
    found = find_control(text)
    if found is not None:
        return _(
            "The template's text holds a control character (%(code)s, character %(position)s), "
            "which an SMS cannot carry; remove it."
        ) % {"code": found.code, "position": formats.number(found.position)}
    info = count_segments(text)
    if info.segments > MAX_SEGMENTS:
        return _(
            "The template's text is %(segments)s SMS segments long (%(length)s %(encoding)s "
            "characters); a template may take at most %(limit)s segments, %(most)s %(encoding)s "
            "characters."
        ) % {
            "segments": formats.number(info.segments),
            "length": formats.number(info.length),
            "encoding": info.encoding,
            "limit": MAX_SEGMENTS,
            "most": formats.number(max_length(info.encoding)),
        }
    count = len(placeholders(text))
    if count > MAX_PLACEHOLDERS:
        return _(
            "The template has %(count)s placeholders; a template may have at most %(most)s."
        ) % {"count": formats.number(count), "most": MAX_PLACEHOLDERS}
    return None


def saved_body_refused(name: str, problem: str) -> str:
    """A template saved before today's limits is asked for; ``problem`` says how it breaks them."""
    return _(
        "The template %(name)s breaks today's limits: %(problem)s Remove it with "
        "“/sms template remove %(name)s” and save it again within the limits to use it."
    ) % {"name": name, "problem": problem}


def value_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot fill placeholder ``name``, as a sentence; ``None`` when it can."""
    found = find_control(value)
    if found is None:
        return None
    return _(
        "The value of %(placeholder)s holds a control character (%(code)s, character "
        "%(position)s), which an SMS cannot carry; remove it."
    ) % {
        "placeholder": f"{{{name}}}",
        "code": found.code,
        "position": formats.number(found.position),
    }


def template_usage() -> str:
    """The usage line of ``/sms template``, in the active locale."""
    return usage_line("template")


def template_send_usage() -> str:
    """The usage line of ``/sms send --template``, in the active locale."""
    return usage_line("send --template")


def fill(text: str, values: Mapping[str, str], usage: str | None = None) -> str:
    """``text`` with every ``{placeholder}`` replaced; a missing or unknown value is refused."""
    usage = usage or template_send_usage()
    wanted = placeholders(text)
    missing = [name for name in wanted if not values.get(name, "").strip()]
    if missing:
        names = ", ".join(f"{{{name}}}" for name in missing)
        raise UsageError(
            _("Give a value for %(names)s, like %(first)s=….")
            % {"names": names, "first": missing[0]},
            usage,
        )
    for name in wanted:
        problem = value_problem(name, values[name])
        if problem is not None:
            raise UsageError(problem, usage)
    unknown = [key for key in values if key not in wanted]
    if unknown:
        raise UsageError(
            _("The template has no placeholder %(unknown)s; it has %(known)s.")
            % {
                "unknown": f"{{{short(unknown[0])}}}",
                "known": ", ".join(f"{{{n}}}" for n in wanted) or _("none"),
            },
            usage,
        )
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _name(word: str) -> str:
    if not _NAME.fullmatch(word):
        raise UsageError(
            _("“%(word)s” is not a template name: use up to 40 letters, digits, - and _.")
            % {"word": short(word)},
            template_usage(),
        )
    return word.lower()


def parse_template(rest: str) -> TemplateCommand:
    """Parse what follows ``/sms template``."""
    pos = skip_space(rest, 0)
    end = token_end(rest, pos)
    action = TEMPLATE_ACTIONS.meaning(rest[pos:end]) or ""
    if action == "list":
        return TemplateListCommand(_list_page(rest[end:].strip()))
    if action not in {"add", "remove"}:
        if pos < end:
            raise UsageError(
                _("“%(word)s” is not what to do with templates: add, list or remove.")
                % {"word": short(rest[pos:end])},
                template_usage(),
            )
        raise UsageError(_("Say what to do with templates: add, list or remove."), template_usage())
    pos = skip_space(rest, end)
    end = token_end(rest, pos)
    if pos >= len(rest):
        sentence = (
            _("Give the name of the template to add.")
            if action == "add"
            else _("Give the name of the template to remove.")
        )
        raise UsageError(sentence, template_usage())
    name = _name(rest[pos:end])
    text = rest[end:].lstrip()
    if action == "remove":
        if text.strip():
            raise UsageError(_("Give only the name of the template to remove."), template_usage())
        return TemplateRemoveCommand(name)
    if not text.strip():
        raise UsageError(
            _("Give the text of the template after its name %(name)s.") % {"name": name},
            template_usage(),
        )
    problem = body_problem(text)
    if problem is not None:
        raise UsageError(problem, template_usage())
    return TemplateAddCommand(name, text)


def list_page(typed: str, only_a_page: str, usage: str) -> int:
    """The page a list command asks for: nothing (the first) or ``page:N`` (any language's word).

    ``only_a_page`` is the command's sentence for anything else, with ``%(example)s`` in it.
    """
    if not typed:
        return 1
    found = _LIST_PAGE.fullmatch(typed)
    if found is None or TEMPLATE_LIST_FIELDS.meaning(found.group(1)) != "page":
        example = f"{TEMPLATE_LIST_FIELDS.word('page')}:2"
        raise UsageError(only_a_page % {"example": example}, usage)
    if _PAGE.fullmatch(found.group(2)) is None:
        raise UsageError(
            _("“%(field)s:%(value)s” must be a page number from 1.")
            % {"field": short(found.group(1)), "value": short(found.group(2))},
            usage,
        )
    return int(found.group(2))


def _list_page(typed: str) -> int:
    """The page ``/sms template list`` asks for."""
    only_a_page = _("“/sms template list” takes only a page after it, like %(example)s.")
    return list_page(typed, only_a_page, template_usage())


def is_template_send(rest: str) -> bool:
    """True when what follows ``send`` starts with ``--template``."""
    return _TEMPLATE_OPTION.match(rest) is not None


def parse_template_send(rest: str, *, default_region: str) -> TemplateSendCommand:
    """Parse ``--template NAME PHONE [KEY=VALUE …]`` (what follows ``send``)."""
    usage = template_send_usage()
    option = _TEMPLATE_OPTION.match(rest)
    if option is None:
        raise UsageError(_("Start with --template NAME."), usage)
    pos = option.end()
    if rest.startswith("=", pos):
        pos += 1
    pos = skip_space(rest, pos)
    end = token_end(rest, pos)
    if pos >= len(rest):
        raise UsageError(
            _("“--%(option)s” needs a value: the template's name.")
            % {"option": SEND_OPTIONS.shown(option.group("word"), "template")},
            usage,
        )
    name = _name(rest[pos:end])
    remainder = rest[end:].strip()
    if not remainder:
        raise UsageError(_("Give the phone number after the template's name."), usage)
    try:
        recipient, used = parse_phone(remainder, default_region)
    except PhoneNumberError as error:
        raise UsageError(error.sentence, usage) from error
    return TemplateSendCommand(name, recipient, _pairs(remainder[used:], usage))


def _pairs(text: str, usage: str) -> tuple[tuple[str, str], ...]:
    values: dict[str, str] = {}
    pos = skip_space(text, 0)
    while pos < len(text):
        pair = _PAIR.match(text, pos)
        if pair is None:
            word = text[pos : token_end(text, pos)]
            raise UsageError(
                _("“%(word)s” is not a value like key=value; quote a value with spaces.")
                % {"word": short(word)},
                usage,
            )
        key, pos = pair.group(1), pair.end()
        if key in values:
            raise UsageError(
                _("“%(key)s” is given twice; give each value once.") % {"key": short(key)}, usage
            )
        if pos < len(text) and is_quote(text[pos]):
            quoted = read_quoted(text, pos)
            if quoted is None:
                raise UsageError(
                    _("The quote after “%(key)s=” is never closed.") % {"key": short(key)}, usage
                )
            values[key], pos = quoted
        else:
            end = token_end(text, pos)
            values[key], pos = text[pos:end], end
        pos = skip_space(text, pos)
    return tuple(values.items())
