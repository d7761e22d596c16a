"""``/sms status``: message ids separated by spaces and/or commas."""

from __future__ import annotations

import re

from handlers.grammar.commands import BalanceCommand, CancelCommand, StatusCommand
from handlers.grammar.lexing import ID, MAX_ID
from handlers.grammar.usage import UsageError, usage_line
from handlers.i18n import gettext as _
from handlers.mrkdwn import short

_ID_SEPARATORS = re.compile(r"[\s,]+")


def parse_status(rest: str) -> StatusCommand:
    """Parse what follows ``status``: message ids separated by spaces and/or commas."""
    ids: dict[int, None] = {}  # a dict keeps the first-seen order while dropping repeats
    for token in _ID_SEPARATORS.split(rest):
        if not token:
            continue
        if not ID.fullmatch(token) or not 0 < int(token) <= MAX_ID:
            raise UsageError(
                _(
                    "“%(token)s” is not a message id; ids are whole numbers above 0, "
                    "separated by spaces or commas."
                )
                % {"token": short(token)},
                usage_line("status"),
            )
        ids[int(token)] = None
    return StatusCommand(tuple(ids))


def parse_balance(rest: str) -> BalanceCommand:
    """Parse what follows ``balance``: nothing."""
    if rest.strip():
        raise UsageError(
            _("“%(token)s” is not understood: /sms balance takes nothing after it.")
            % {"token": short(rest.strip())},
            usage_line("balance"),
        )
    return BalanceCommand()


def parse_cancel(rest: str) -> CancelCommand:
    """Parse what follows ``cancel``: one message id."""
    tokens = rest.split()
    if not tokens:
        raise UsageError(
            _("Give the message id of the scheduled SMS to cancel."), usage_line("cancel")
        )
    if len(tokens) > 1:
        raise UsageError(_("Give one message id; cancel one SMS at a time."), usage_line("cancel"))
    token = tokens[0]
    if not ID.fullmatch(token) or not 0 < int(token) <= MAX_ID:
        raise UsageError(
            _("“%(token)s” is not a message id; ids are whole numbers above 0.")
            % {"token": short(token)},
            usage_line("cancel"),
        )
    return CancelCommand(int(token))
