"""The ``/sms`` command grammar: Slack's command text in, a typed command out (pure functions).

::

    /sms
    /sms help
    /sms send [--from SENDER] [--at "YYYY-MM-DD HH:MM"] [--validity MINUTES] [--flash]
              [--name NAME] PHONE[, PHONE…] TEXT…
    /sms status [ID …]
    /sms find [FIELD:VALUE …]
    /sms template add NAME TEXT | list | remove NAME
    /sms optout add PHONE | list | remove PHONE
    /sms send --template NAME PHONE [KEY=VALUE …]
    /sms balance
    /sms cancel ID

Every word has a Portuguese twin, accepted whatever the reader's language (``/sms enviar``,
``/sms buscar para:5511``); :mod:`handlers.grammar.words` holds them, one table per kind.

:func:`parse_command` returns a :class:`HelpCommand`, :class:`SendCommand` (or
:class:`SendManyCommand` for a list of numbers), :class:`StatusCommand` or :class:`FindCommand`,
and raises :class:`UsageError` (a sentence and the usage line) for every bad input, so nothing
unchecked reaches Mobizon.

One module per concern: ``usage`` (usage lines, help, :class:`UsageError`), ``commands`` (the
typed commands), ``slack_input`` (undoing Slack's escaping of what was typed), ``lexing`` (words,
quotes, dates), ``send``, ``status``, ``find``, ``templates`` and ``optout`` (one parser each),
``find_buttons`` (the Previous/Next buttons' value).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlers.grammar.commands import (
    BalanceCommand,
    CancelCommand,
    Command,
    FindCommand,
    HelpCommand,
    OptOutAddCommand,
    OptOutCommand,
    OptOutListCommand,
    OptOutRemoveCommand,
    SendCommand,
    SendManyCommand,
    StatusCommand,
)
from handlers.grammar.find import parse_find
from handlers.grammar.find_buttons import find_button_value, parse_find_button
from handlers.grammar.optout import parse_optout
from handlers.grammar.send import parse_send
from handlers.grammar.slack_input import unescape_slack_input
from handlers.grammar.status import parse_balance, parse_cancel, parse_status
from handlers.grammar.templates import (
    TemplateAddCommand,
    TemplateCommand,
    TemplateListCommand,
    TemplateRemoveCommand,
    TemplateSendCommand,
    is_template_send,
    parse_template,
    parse_template_send,
)
from handlers.grammar.usage import (
    GENERAL_USAGE,
    HELP_TEXT,
    USAGE,
    UsageError,
    general_usage,
    help_text,
    usage_line,
)
from handlers.grammar.words import SUBCOMMANDS
from handlers.i18n import gettext as _
from handlers.mrkdwn import short

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "GENERAL_USAGE",
    "HELP_TEXT",
    "USAGE",
    "AnyCommand",
    "BalanceCommand",
    "CancelCommand",
    "Command",
    "FindCommand",
    "HelpCommand",
    "OptOutAddCommand",
    "OptOutCommand",
    "OptOutListCommand",
    "OptOutRemoveCommand",
    "SendCommand",
    "SendManyCommand",
    "StatusCommand",
    "TemplateAddCommand",
    "TemplateListCommand",
    "TemplateRemoveCommand",
    "TemplateSendCommand",
    "UsageError",
    "find_button_value",
    "general_usage",
    "help_text",
    "parse_command",
    "parse_find_button",
    "usage_line",
]

#: Every command :func:`parse_command` returns: the typed commands, the template and opt-out ones.
AnyCommand = Command | TemplateCommand | TemplateSendCommand | OptOutCommand

_FIRST_WORD = re.compile(r"\s*(\S*)")


def parse_command(text: str, *, default_region: str, now: datetime) -> AnyCommand:  # noqa: PLR0911  # one return per subcommand
    """Parse the text of a ``/sms`` slash command as Slack sends it.

    ``default_region`` (e.g. ``"BR"``) reads numbers written without a country code; ``now`` is
    the time ``--at`` is checked against, aware in the Mobizon account's zone (``--at`` is read
    in that zone) or naive local time. Raises :class:`UsageError` for any
    input that is not a valid command.
    """
    text = unescape_slack_input(text)
    first = _FIRST_WORD.match(text)
    word = first.group(1) if first else ""
    rest = text[first.end() :] if first else ""
    subcommand = SUBCOMMANDS.meaning(word) if word else "help"
    if subcommand == "help":
        return HelpCommand()
    if subcommand == "template":
        return parse_template(rest)
    if subcommand == "optout":
        return parse_optout(rest, default_region=default_region)
    if subcommand == "send" and is_template_send(rest):
        return parse_template_send(rest, default_region=default_region)
    if subcommand == "send":
        return parse_send(rest, default_region=default_region, now=now)
    if subcommand == "status":
        return parse_status(rest)
    if subcommand == "find":
        return parse_find(rest)
    if subcommand == "balance":
        return parse_balance(rest)
    if subcommand == "cancel":
        return parse_cancel(rest)
    raise UsageError(
        _(
            "I don't know the command “%(word)s”; use send, status, find, template, optout, "
            "balance, cancel or help, or /sms alone for the compose form."
        )
        % {"word": short(word)},
        general_usage(),
    )
