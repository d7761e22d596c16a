"""``/sms template add|list|remove`` and ``/sms send --template``; ``{placeholders}`` filled.

::

    /sms template add NAME TEXT
    /sms template list
    /sms template remove NAME
    /sms send --template NAME PHONE [KEY=VALUE …]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from handlers.grammar.lexing import is_quote, read_quoted, skip_space, token_end
from handlers.grammar.usage import UsageError, shorten
from handlers.phone import PhoneNumberError, parse_phone

TEMPLATE_USAGE = (
    "Usage: /sms template add NAME TEXT | /sms template list | /sms template remove NAME"
)
TEMPLATE_SEND_USAGE = "Usage: /sms send --template NAME PHONE [KEY=VALUE …]"

_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: ``{name}``: a letter or underscore, then letters, digits and underscores.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
_TEMPLATE_OPTION = re.compile(r"\s*(?:--|\u2014|\u2013)template(?=\s|=|$)", re.IGNORECASE)
_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass(frozen=True, slots=True)
class TemplateAddCommand:
    """``/sms template add``: save ``text`` as ``name``."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class TemplateListCommand:
    """``/sms template list``."""


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


def fill(text: str, values: Mapping[str, str], usage: str = TEMPLATE_SEND_USAGE) -> str:
    """``text`` with every ``{placeholder}`` replaced; a missing or unknown value is refused."""
    wanted = placeholders(text)
    missing = [name for name in wanted if not values.get(name, "").strip()]
    if missing:
        names = ", ".join(f"{{{name}}}" for name in missing)
        raise UsageError(f"Give a value for {names}, like {missing[0]}=….", usage)
    unknown = [key for key in values if key not in wanted]
    if unknown:
        raise UsageError(
            f"The template has no placeholder {{{shorten(unknown[0])}}}; "
            f"it has {', '.join(f'{{{n}}}' for n in wanted) or 'none'}.",
            usage,
        )
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _name(word: str) -> str:
    if not _NAME.fullmatch(word):
        raise UsageError(
            f"“{shorten(word)}” is not a template name: use up to 40 letters, digits, - and _.",
            TEMPLATE_USAGE,
        )
    return word.lower()


def parse_template(rest: str) -> TemplateCommand:
    """Parse what follows ``/sms template``."""
    pos = skip_space(rest, 0)
    end = token_end(rest, pos)
    action = rest[pos:end].lower()
    if action == "list":
        if rest[end:].strip():
            raise UsageError("“/sms template list” takes nothing after it.", TEMPLATE_USAGE)
        return TemplateListCommand()
    if action not in {"add", "remove"}:
        what = f"“{shorten(rest[pos:end])}” is not" if action else "Say"
        raise UsageError(f"{what} what to do with templates: add, list or remove.", TEMPLATE_USAGE)
    pos = skip_space(rest, end)
    end = token_end(rest, pos)
    if pos >= len(rest):
        raise UsageError(f"Give the name of the template to {action}.", TEMPLATE_USAGE)
    name = _name(rest[pos:end])
    text = rest[end:].lstrip()
    if action == "remove":
        if text.strip():
            raise UsageError("Give only the name of the template to remove.", TEMPLATE_USAGE)
        return TemplateRemoveCommand(name)
    if not text.strip():
        raise UsageError(f"Give the text of the template after its name {name}.", TEMPLATE_USAGE)
    return TemplateAddCommand(name, text)


def is_template_send(rest: str) -> bool:
    """True when what follows ``send`` starts with ``--template``."""
    return _TEMPLATE_OPTION.match(rest) is not None


def parse_template_send(rest: str, *, default_region: str) -> TemplateSendCommand:
    """Parse ``--template NAME PHONE [KEY=VALUE …]`` (what follows ``send``)."""
    usage = TEMPLATE_SEND_USAGE
    option = _TEMPLATE_OPTION.match(rest)
    if option is None:
        raise UsageError("Start with --template NAME.", usage)
    pos = option.end()
    if rest.startswith("=", pos):
        pos += 1
    pos = skip_space(rest, pos)
    end = token_end(rest, pos)
    if pos >= len(rest):
        raise UsageError("“--template” needs a value: the template's name.", usage)
    name = _name(rest[pos:end])
    remainder = rest[end:].strip()
    if not remainder:
        raise UsageError("Give the phone number after the template's name.", usage)
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
                f"“{shorten(word)}” is not a value like key=value; quote a value with spaces.",
                usage,
            )
        key, pos = pair.group(1), pair.end()
        if key in values:
            raise UsageError(f"“{shorten(key)}” is given twice; give each value once.", usage)
        if pos < len(text) and is_quote(text[pos]):
            quoted = read_quoted(text, pos)
            if quoted is None:
                raise UsageError(f"The quote after “{shorten(key)}=” is never closed.", usage)
            values[key], pos = quoted
        else:
            end = token_end(text, pos)
            values[key], pos = text[pos:end], end
        pos = skip_space(text, pos)
    return tuple(values.items())
