"""``/sms status``: message ids separated by spaces and/or commas."""

from __future__ import annotations

import re

from handlers.grammar.commands import BalanceCommand, CancelCommand, StatusCommand
from handlers.grammar.lexing import ID, MAX_ID
from handlers.grammar.usage import USAGE, UsageError, shorten

_ID_SEPARATORS = re.compile(r"[\s,]+")


def parse_status(rest: str) -> StatusCommand:
    """Parse what follows ``status``: message ids separated by spaces and/or commas."""
    ids: dict[int, None] = {}  # a dict keeps the first-seen order while dropping repeats
    for token in _ID_SEPARATORS.split(rest):
        if not token:
            continue
        if not ID.fullmatch(token) or not 0 < int(token) <= MAX_ID:
            raise UsageError(
                f"“{shorten(token)}” is not a message id; ids are whole numbers above 0, "
                "separated by spaces or commas.",
                USAGE["status"],
            )
        ids[int(token)] = None
    return StatusCommand(tuple(ids))


def parse_balance(rest: str) -> BalanceCommand:
    """Parse what follows ``balance``: nothing."""
    if rest.strip():
        raise UsageError(
            f"“{shorten(rest.strip())}” is not understood: /sms balance takes nothing after it.",
            USAGE["balance"],
        )
    return BalanceCommand()


def parse_cancel(rest: str) -> CancelCommand:
    """Parse what follows ``cancel``: one message id."""
    tokens = rest.split()
    if not tokens:
        raise UsageError("Give the message id of the scheduled SMS to cancel.", USAGE["cancel"])
    if len(tokens) > 1:
        raise UsageError("Give one message id; cancel one SMS at a time.", USAGE["cancel"])
    token = tokens[0]
    if not ID.fullmatch(token) or not 0 < int(token) <= MAX_ID:
        raise UsageError(
            f"“{shorten(token)}” is not a message id; ids are whole numbers above 0.",
            USAGE["cancel"],
        )
    return CancelCommand(int(token))
